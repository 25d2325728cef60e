"""slo_import (OpenSLO and Sloth files), the SLO API and the admin."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model

from slo.models import SLO
from slo.services import slo_import_text
from tests.bad_input.common import (
    changes_nothing,
    command_error,
)
from tests.slo.test_api import NEW as NEW_SLO
from tests.slo.test_import import SLOTH, slo_yaml

pytestmark = pytest.mark.django_db


# --- slo_import: OpenSLO and Sloth files; the SLO API and admin ---------------------------------

OPENSLO = slo_yaml()
SLO_FILES = [
    ("truncated", OPENSLO[: len(OPENSLO) // 2] + "\n  - '", "is not valid YAML"),
    (
        "not utf-8",
        OPENSLO.replace("orders-errors", "orders-\udcffrrors"),
        "cannot be read: 'utf-8' codec",
    ),
    (
        "escaped NUL",
        OPENSLO.replace("name: orders-availability", 'name: "orders\\0"'),
        "NUL character",
    ),
    (
        "duplicate key",
        OPENSLO.replace("  service: orders\n", "  service: orders\n  service: payments\n"),
        "the key 'service' is given twice",
    ),
    (
        "wrong type",
        slo_yaml(objective="target: [0.99]"),
        "spec.objectives[0].target: expected a number, got a list",
    ),
    ("huge value", slo_yaml(objective="target: 1e999"), "spec.objectives[0].target"),
    (
        "huge window",
        slo_yaml(window="duration: 99999999999d\n      isRolling: true"),
        "spec.timeWindow[0].duration",
    ),
    ("traversal in name", slo_yaml(name="../../etc"), "metadata.name"),
    (
        "query injection",
        slo_yaml(query='sum(x_total{a="1"} or vector(1))'),
        "spec.indicator.spec.ratioMetric.bad.metricSource.spec.query",
    ),
    (
        "second document bad",
        OPENSLO + "---\n" + slo_yaml(name="other", objective="target: 2"),
        "document 2 (SLO other): spec.objectives[0].target",
    ),
    (
        "sloth wrong type",
        SLOTH.replace("objective: 99.9", "objective: high"),
        "slos[0].objective: expected a number, got text",
    ),
    (
        "sloth injection",
        # Any PromQL is an SLI now (the promql path), but one that only parses once SSOps wraps
        # it in parentheses would break out of them: refused.
        SLOTH.replace('job="myservice"}[{{ .window }}]', 'job="x"}[{{ .window }}]))) or (vector(1'),
        "slos[0].sli.events.total_query",
    ),
    (
        "sloth traversal",
        SLOTH.replace("service: myservice", "service: ../../etc"),
        "document 1 (Sloth service ../../etc): service: Use lower-case letters",
    ),
    (
        "service traversal",
        OPENSLO.replace("service: orders", "service: ../../etc"),
        "document 1 (SLO orders-availability): spec.service: Use lower-case letters",
    ),
]


@pytest.mark.parametrize(
    ("text", "message"), [c[1:] for c in SLO_FILES], ids=[c[0] for c in SLO_FILES]
)
def test_slo_import_refuses_a_hostile_file_naming_document_and_field(tmp_path, team, text, message):
    slo_import_text(actor=None, text=slo_yaml(name="kept"), name="kept.yaml")  # state to keep
    path = tmp_path / "hostile.yaml"
    path.write_bytes(text.encode(errors="surrogateescape"))
    with changes_nothing():
        refused = command_error("slo_import", path)
    assert f"refused {path}: " in refused and message in refused


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"name": "../../etc"}, "name", "lower-case letters"),
        ({"objective": "NaN"}, "objective", ""),
        ({"objective": 10**400}, "objective", ""),
        ({"window_duration": "99999999999d"}, "window_duration", ""),
        (
            {"numerator_query": 'x_total{a="1"} or vector(1)'},
            "numerator_query",
            "is not a sum or difference of counters",
        ),
        ({"service": "<script>"}, "service", ""),
        ({"runbook_url": "javascript:alert(1)"}, "runbook_url", "not an http(s) URL"),
        (
            {
                "indicator_type": "threshold",
                "threshold_query": "max(up) # comment",
                "threshold_op": "lt",
                "threshold_value": 1,
                "budgeting_method": "Timeslices",
                "timeslice_window": "1m",
                "timeslice_target": 0.9,
            },
            "threshold_query",
            "remove the # comment",
        ),
    ],
)
def test_a_bad_slo_through_the_api_is_refused_naming_the_field(
    api_as, alice, change, field, message
):
    with changes_nothing():
        response = api_as(alice).post("/api/slos/", {**NEW_SLO, **change}, format="json")
    assert response.status_code == 400, response.content
    assert message in json.dumps(response.json()[field])


def test_a_bad_slo_in_the_admin_is_refused_on_the_form(client, team):
    slo_import_text(actor=None, text=slo_yaml(), name="slo.yaml")
    client.force_login(
        get_user_model().objects.create_superuser("root", "root@example.test", "pw-for-tests")
    )
    slo = SLO.objects.get()
    url = f"/admin/slo/slo/{slo.pk}/change/"
    form = client.get(url).context["adminform"].form
    fields = {k: v for k, v in form.initial.items() if v is not None and k != "alert_policies"}
    fields.update(
        labels="{}",
        alert_labels="{}",
        alert_annotations="{}",
        service=slo.service_id,
        team=slo.team_id,
        numerator_query='x_total{a="1"}) or (vector(1)',
    )
    with changes_nothing():
        response = client.post(url, fields)
    assert response.status_code == 200
    assert "not valid PromQL" in response.content.decode()
