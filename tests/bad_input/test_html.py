"""HTML in every free-text field, escaped on every page."""

from __future__ import annotations

import copy
import json
from html.parser import HTMLParser

import pytest
import yaml

from audit.models import AuditEvent
from catalog.services import (
    policy_save,
    request_break_glass,
    request_mark_ready,
    request_reject,
    request_submit,
    template_publish,
)
from catalog.template_spec import lint_template
from metrics.services import incident_open, oncall_action_log, rating_submit
from provisioning.models import RunStep
from provisioning.runbook_spec import lint_runbook
from provisioning.services import runbook_publish, runbook_run_reject, runbook_run_start
from slo.services import slo_import_text
from teams.models import Team
from tests.bad_input.common import FREE, RUNBOOK
from tests.dashboards import data
from tests.factories import MembershipFactory
from tests.helpers import RUNBOOKS
from tests.slo.test_import import slo_yaml

pytestmark = pytest.mark.django_db


# --- HTML in every free-text field, escaped on every page -----------------------------------------

PAYLOAD = '<script>alert("xss")</script>"><img src=x onerror=alert(1)>'
SHOWN = "&lt;script&gt;alert("


class Markup(HTMLParser):
    """Inline scripts and event-handler attributes: what an injection would have added."""

    def __init__(self):
        super().__init__()
        self.scripts, self.handlers = 0, []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and "src" not in attrs and attrs.get("type") != "application/json":
            self.scripts += 1
        self.handlers += [name for name in attrs if name.startswith("on")]


@pytest.fixture
def hostile(team, bob, carol, oncall, platform_admin, settings):
    """Every kind of user-supplied text holds PAYLOAD, entered the way users enter it."""
    settings.WEBHOOK_URLS = ["http://127.0.0.1:1"]
    xss_team = Team.objects.create(slug="xss", name=PAYLOAD, cost_center=PAYLOAD[:40])
    MembershipFactory(team=xss_team, user=bob)
    document = copy.deepcopy(FREE)
    document["metadata"].update(title=PAYLOAD, description=PAYLOAD)
    document["spec"].update(owner=PAYLOAD[:60], riskTier="medium")
    document["spec"]["approvals"] = {"required": 1, "timeout": "24h"}
    note = document["spec"]["parameters"]["properties"]["note"]
    note.update(title=PAYLOAD, description=PAYLOAD)
    spec, errors = lint_template(document)
    assert errors == []
    template_publish(actor=None, spec=spec)
    low = copy.deepcopy(FREE)
    low["metadata"].update(name="xss-low", title=PAYLOAD)
    template_publish(actor=None, spec=lint_template(low)[0])
    policy_save(
        actor=None,
        slug="echo",
        title=PAYLOAD,
        description=PAYLOAD,
        mode="warn",
        source="package echo\n\nimport rego.v1\n\nwarn contains msg if {\n"
        '  input.request.justification != ""\n'
        '  msg := sprintf("noted: %s", [input.request.justification])\n}\n',
    )

    def submit(template="free-text"):
        return request_submit(
            actor=bob,
            template=template,
            team=team,
            parameters={"name": "fine", "note": PAYLOAD},
            justification=PAYLOAD,
        )

    pending, rejected, glass = submit(), submit(), submit()
    assert pending.warnings == [f"noted: {PAYLOAD} (policy echo, warn only)"]  # quoting the user
    request_reject(request=rejected, actor=carol, comment=PAYLOAD)
    request_break_glass(request=glass, actor=platform_admin, reason=PAYLOAD, hours=2)
    ready = request_mark_ready(request=submit("xss-low"), outputs={"note": PAYLOAD})
    rating_submit(actor=bob, request=ready, score=2, comment=PAYLOAD)
    run = data.add_run(ready, state="failed")
    run.error = PAYLOAD
    run.save(update_fields=["error"])
    RunStep.objects.filter(run=run).update(
        name=PAYLOAD[:200], error=PAYLOAD, log=[{"at": "", "level": "error", "message": PAYLOAD}]
    )
    book = yaml.safe_load((RUNBOOKS.parent / RUNBOOK).read_text())
    book["metadata"].update(name="xss-book", title=PAYLOAD, description=PAYLOAD)
    book["spec"]["riskTier"] = "high"
    book["spec"]["parameters"]["properties"]["pattern"].update(title=PAYLOAD, description=PAYLOAD)
    runbook_publish(actor=None, spec=lint_runbook(book)[0])
    waiting = runbook_run_start(
        actor=oncall, runbook="xss-book", parameters={"pattern": "a"}, justification=PAYLOAD
    )
    refused = runbook_run_start(
        actor=oncall, runbook="xss-book", parameters={"pattern": "b"}, justification=PAYLOAD
    )
    runbook_run_reject(actor=platform_admin, runbook_run=refused, comment=PAYLOAD)
    incident = incident_open(actor=oncall, title=PAYLOAD, team=team)
    oncall_action_log(actor=oncall, incident=incident, description=PAYLOAD)
    slo_text = slo_yaml(extra="").replace(
        "  labels:",
        f"  displayName: {json.dumps(PAYLOAD)}\n  annotations:\n"
        f"    description: {json.dumps(PAYLOAD)}\n  labels:",
    )
    slo_import_text(actor=None, text=slo_text, name="xss.yaml")
    event = AuditEvent.objects.filter(action="request.rated").get()
    return {
        "pending": pending,
        "rejected": rejected,
        "glass": glass,
        "ready": ready,
        "waiting": waiting,
        "refused": refused,
        "event": event,
    }


def pages(objects) -> list[tuple[str, str, bool]]:
    """(who, page, whether PAYLOAD must be shown on it)."""
    item = {name: obj.uuid for name, obj in objects.items()}
    return [
        ("bob", "/catalog/", True),
        ("bob", "/catalog/free-text/", True),
        ("bob", "/catalog/free-text/request/", True),
        ("bob", "/requests/", False),
        *[
            ("bob", f"/requests/{item[k]}/", True)
            for k in ("pending", "rejected", "glass", "ready")
        ],
        ("bob", f"/requests/{item['rejected']}/timeline/", True),
        ("bob", f"/requests/{item['ready']}/rating/", False),
        ("bob", "/teams/", True),
        ("bob", "/teams/xss/", True),
        ("bob", f"/dashboards/debug/{item['ready']}/", True),
        ("bob", "/slos/", True),
        ("bob", "/slos/orders-availability/", True),
        ("bob", "/dashboards/slos/orders-availability/", True),
        ("bob", "/audit/", False),
        ("bob", f"/audit/{item['event']}/", True),
        ("carol", "/approvals/", True),
        ("oncall", "/runbooks/", True),
        ("oncall", "/runbooks/xss-book/", True),
        ("oncall", f"/runbooks/runs/{item['waiting']}/", True),
        ("oncall", f"/runbooks/runs/{item['refused']}/live/", True),
        ("oncall", "/incidents/", True),
        ("oncall", "/dashboards/oncall/", False),
        ("executive", "/dashboards/executive/", False),
        ("executive", "/platform-metrics/", False),
        ("executive", "/platform-metrics/m12/", False),
        ("executive", "/platform-metrics/budgets/", False),
        ("platform_admin", "/resources/", False),
        # Hostile text in the query string, echoed back in messages and forms.
        ("bob", f"/catalog/free-text/request/?version={PAYLOAD}", False),
        ("bob", f"/platform-metrics/?period=day&at={PAYLOAD}", True),
        ("bob", f"/audit/?actor={PAYLOAD}", False),
        ("bob", f"/requests/?team={PAYLOAD}", False),
        ("bob", f"/catalog/?q={PAYLOAD}", False),
    ]


def test_html_in_user_text_is_escaped_on_every_page(request, client, hostile, executive):
    for who, url, shown in pages(hostile):
        client.force_login(request.getfixturevalue(who))
        response = client.get(url)
        assert response.status_code in (200, 404), (url, response.status_code)
        html = response.content.decode()
        assert "<script>alert(" not in html and "<img src=x" not in html, url
        markup = Markup()
        markup.feed(html)
        assert (markup.scripts, markup.handlers) == (0, []), url
        assert SHOWN in html or not shown, f"{url} does not show the text it was given"


def test_html_in_a_login_attempt_is_escaped(client):
    response = client.post("/accounts/login/", {"username": PAYLOAD, "password": "x"})
    html = response.content.decode()
    assert response.status_code == 200 and "<script>alert(" not in html
    assert "&lt;script&gt;" in html
