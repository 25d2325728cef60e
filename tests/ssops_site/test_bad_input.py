"""Bad input at every door where a file or a form enters SSOps: each hostile input gets a clear
error that names the place (file, document, row and column, or field) and changes nothing — every
row of the catalog, SLO and audit tables is the same afterwards (`changes_nothing`). Then the two
ways in which accepted text could still do harm: PromQL built from label values (the query sent to
Prometheus keeps a hostile value a value) and HTML in user-supplied text (escaped on every page),
and CSV exports (a cell that a spreadsheet would run as a formula is neutralised).

Each door appears here at least once. What is already tested thoroughly elsewhere is not repeated:
- catalog_import lint messages and all-or-nothing: tests/catalog/test_catalog_import.py,
  test_template_spec.py (each problem names its field), provisioning/test_runbooks.py (runbook
  fields, bad run parameters change nothing);
- policies: tests/catalog/test_policies.py (broken modules, failing examples), test_admin.py;
- request parameters: tests/catalog/test_submit.py (schema errors per field, nothing reserved),
  test_pages.py (form errors next to each field), test_cli.py (field errors, --param typing);
- slo_import: tests/slo/test_import.py (queries, windows, objectives, malformed files),
  test_openslo_examples.py (every published example imported or refused naming the field),
  test_api.py (a refused change changes nothing), test_promql_and_grouping.py (quoting);
- FOCUS CSV: tests/slo/platform/test_billing_import.py (row and column named, whole file or
  nothing), test_pages_and_api.py (upload through the API);
- API fuzzing from the OpenAPI schema (negative data rejected): tests/ssops_site/test_api_fuzz.py;
  audit filters: tests/audit/test_api_and_page.py.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import shutil
import threading
from contextlib import contextmanager
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import promql_parser
import pytest
import yaml
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client

from audit.models import AuditEvent
from catalog.importer import DEFAULT_ROOT
from catalog.models import RunStep, Team
from catalog.provisioning.verify import check_promql
from catalog.runbook_spec import lint_runbook
from catalog.services import (
    policy_save,
    request_break_glass,
    request_mark_ready,
    request_reject,
    request_submit,
    runbook_publish,
    runbook_run_reject,
    runbook_run_start,
    template_publish,
)
from catalog.template_spec import lint_template
from dashboards.tables import Table, cell, csv_response
from slo import promql
from slo.models import SLO
from slo.platform.services import (
    billing_import,
    incident_open,
    oncall_action_log,
    rating_submit,
)
from slo.services import slo_import_text
from tests.catalog.conftest import template_document
from tests.dashboards import data
from tests.factories import MembershipFactory
from tests.slo.platform.focus_files import charge, focus_csv
from tests.slo.test_api import NEW as NEW_SLO
from tests.slo.test_import import SLOTH, slo_yaml

pytestmark = pytest.mark.django_db

WATCHED_APPS = ("catalog", "slo", "audit")


def snapshot() -> dict[str, list[str]]:
    """Every row of every table of the catalog, SLO and audit apps (and the users)."""
    models = [m for app in WATCHED_APPS for m in apps.get_app_config(app).get_models()]
    models.append(get_user_model())
    return {m._meta.label: sorted(map(repr, m.objects.values_list())) for m in models}


@contextmanager
def changes_nothing():
    events, before = AuditEvent.objects.count(), snapshot()
    yield
    after = snapshot()
    assert AuditEvent.objects.count() == events
    assert [label for label in before if before[label] != after[label]] == []


@pytest.fixture
def shipped(db):
    """The shipped catalog definitions, imported: the state a bad import must leave alone."""
    call_command("catalog_import", stdout=io.StringIO())


def command_error(name: str, *args) -> str:
    """Run a management command that must refuse; its message and what it wrote to stderr."""
    err = io.StringIO()
    with pytest.raises(CommandError) as refused:
        call_command(name, *map(str, args), stdout=io.StringIO(), stderr=err)
    return f"{refused.value}\n{err.getvalue()}"


# --- catalog_import: templates, policies, runbooks ----------------------------------------------

TEMPLATE = "templates/kubernetes-namespace-1.0.0.yaml"
POLICY = "policies/budget-guard.yaml"
RULES = "policies/budget-guard.rego"
RUNBOOK = "runbooks/flush-cache-1.0.0.yaml"


def _yaml_edit(change):
    def edit(raw: bytes) -> bytes:
        document = yaml.safe_load(raw)
        change(document)
        return yaml.safe_dump(document, sort_keys=False).encode()

    return edit


def _text_edit(old: str, new: str):
    def edit(raw: bytes) -> bytes:
        assert old.encode() in raw
        return raw.replace(old.encode(), new.encode(), 1)

    return edit


CATALOG_FILES = [
    # (case, file changed, how, what the message must say)
    (
        "truncated",
        TEMPLATE,
        lambda raw: raw[: len(raw) // 2] + b"\nttl: {default: [1d",
        "cannot read YAML",
    ),
    (
        "not utf-8",
        TEMPLATE,
        lambda raw: raw.replace(b"namespace", b"name\xffspace", 1),
        "cannot read YAML: 'utf-8' codec",
    ),
    (
        "raw NUL",
        TEMPLATE,
        lambda raw: raw.replace(b"title:", b"title: \x00", 1),
        "cannot read YAML",
    ),
    ("escaped NUL", TEMPLATE, _yaml_edit(lambda d: d["metadata"].update(title="a\0b")), "NUL"),
    (
        "duplicate key",
        TEMPLATE,
        _text_edit("spec:\n", "spec:\n  owner: mallory\n"),
        "the key 'owner' is given twice",
    ),
    (
        "python tag",
        TEMPLATE,
        lambda raw: b"!!python/object/apply:os.system [id]\n",
        "cannot read YAML",
    ),
    (
        "a list",
        TEMPLATE,
        lambda raw: b"- kind: Template\n",
        "kind: must be Template, Policy or Runbook",
    ),
    (
        "wrong type",
        TEMPLATE,
        _yaml_edit(lambda d: d["spec"].update(riskTier=["low"])),
        "spec.riskTier: must be one of",
    ),
    (
        "unknown field",
        TEMPLATE,
        _yaml_edit(lambda d: d["spec"].update(aprovals={"required": 2})),
        "spec.aprovals: unknown field",
    ),
    (
        "unknown top field",
        TEMPLATE,
        _yaml_edit(lambda d: d.update(specs={})),
        "specs: unknown field",
    ),
    (
        "huge duration",
        TEMPLATE,
        _yaml_edit(lambda d: d["spec"]["ttl"].update(maximum="99999999999w")),
        "spec.ttl.maximum: '99999999999w' is longer than",
    ),
    (
        "huge cost",
        TEMPLATE,
        _yaml_edit(lambda d: d["spec"]["cost"].update(monthly=10**30)),
        "spec.cost.monthly: must be less than",
    ),
    (
        "huge count",
        TEMPLATE,
        _yaml_edit(lambda d: d["spec"]["resources"].update(count=10**20)),
        "spec.resources.count: must be at most",
    ),
    (
        "long title",
        TEMPLATE,
        _yaml_edit(lambda d: d["metadata"].update(title="t" * 201)),
        "metadata.title: is 201 characters long; at most 200",
    ),
    (
        "long version",
        TEMPLATE,
        _yaml_edit(lambda d: d["spec"].update(version="1.0.0-" + "a" * 80)),
        "spec.version: is 86 characters long",
    ),
    (
        "traversal in name",
        TEMPLATE,
        _yaml_edit(lambda d: d["metadata"].update(name="../../etc")),
        "metadata.name: use lower-case letters",
    ),
    (
        "module outside",
        POLICY,
        _yaml_edit(lambda d: d["spec"].update(module="../../../../etc/passwd")),
        "spec.module: cannot read '../../../../etc/passwd': ../../../../etc/passwd is outside",
    ),
    (
        "module absolute",
        POLICY,
        _yaml_edit(lambda d: d["spec"].update(module="/etc/passwd")),
        "spec.module: cannot read '/etc/passwd'",
    ),
    (
        "module not utf-8",
        RULES,
        lambda raw: raw.replace(b"budget", b"b\xffudget", 1),
        "spec.module: cannot read 'budget-guard.rego': budget-guard.rego is not UTF-8",
    ),
    (
        "module truncated",
        RULES,
        lambda raw: raw[: len(raw) // 2],
        "spec.module: budget-guard does not compile: this is unclosed at budget-guard.rego:",
    ),
    (
        "policy unknown field",
        POLICY,
        _yaml_edit(lambda d: d["spec"].update(moduel="x.rego")),
        "spec.moduel: unknown field",
    ),
    (
        "runbook wrong type",
        RUNBOOK,
        _yaml_edit(lambda d: d["spec"].update(steps={"id": "x"})),
        "spec.steps",
    ),
    (
        "runbook unknown field",
        RUNBOOK,
        _yaml_edit(lambda d: d["spec"].update(verfy={})),
        "spec.verfy: unknown field",
    ),
    (
        "runbook long title",
        RUNBOOK,
        _yaml_edit(lambda d: d["metadata"].update(title="t" * 300)),
        "metadata.title: is 300 characters long",
    ),
]


@pytest.mark.parametrize(
    ("changed", "edit", "message"),
    [c[1:] for c in CATALOG_FILES],
    ids=[c[0] for c in CATALOG_FILES],
)
def test_catalog_import_refuses_a_hostile_file_naming_it_and_changes_nothing(
    shipped, tmp_path, changed, edit, message
):
    folder = tmp_path / "definitions"
    shutil.copytree(DEFAULT_ROOT, folder)
    path = folder / changed
    path.write_bytes(edit(path.read_bytes()))
    # A good new version next to the bad file: all or nothing, so it is not published either.
    neighbour = template_document("good-neighbour")
    (folder / "templates" / "good-neighbour.yaml").write_text(yaml.safe_dump(neighbour))
    with changes_nothing():
        refused = command_error("catalog_import", folder)
    reported = Path(POLICY).name if changed == RULES else path.name  # the policy names its module
    assert "nothing was imported" in refused
    assert f"/{reported}: " in refused and message in refused


# --- policies through the API and the admin -----------------------------------------------------

RULE = 'package bad_input\n\nimport rego.v1\n\ndeny contains "no" if input.x == 1\n'


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"source": RULE.replace("if input", "if (input")}, "source", ""),
        ({"examples": "x"}, "examples", "Expected a list"),
        ({"examples": [{"name": "x", "input": {"x": 1}, "expect": {"deny": []}}]}, "source", "x"),
        ({"title": "t" * 201}, "title", "no more than 200 characters"),
        ({"slug": "../etc"}, "slug", ""),
        ({"mode": "yolo"}, "mode", "not a valid choice"),
        ({"source": "x" * 300_000}, "source", ""),
    ],
)
def test_a_bad_policy_through_the_api_is_refused_naming_the_field(
    api_as, platform_admin, shipped, change, field, message
):
    body = {"slug": "bad-input", "title": "Bad input", "source": RULE, **change}
    with changes_nothing():
        response = api_as(platform_admin).post("/api/policies/", body, format="json")
    assert response.status_code == 400, response.content
    assert message in " ".join(map(str, response.json()[field]))


@pytest.mark.parametrize(
    ("examples", "message"),
    [
        ("[{", "not JSON: Expecting property name"),
        ('{"not": "a list"}', "a JSON list of examples"),
        (json.dumps([{"name": "x", "input": {"x": 1}, "expect": {"allow": True}}]), "expected"),
        (
            '[{"name": "\\u0000", "input": {"x": 1}, "expect": {"deny": ["no"]}}]',
            "examples: contains a NUL character",
        ),
    ],
)
def test_a_bad_policy_in_the_admin_is_refused_on_the_form(client, shipped, examples, message):
    client.force_login(
        get_user_model().objects.create_superuser("root", "root@example.test", "pw-for-tests")
    )
    form = {
        "slug": "admin-bad",
        "title": "Admin bad",
        "description": "",
        "enabled": "on",
        "mode": "enforce",
        "source": RULE,
        "examples": examples,
    }
    with changes_nothing():
        response = client.post("/admin/catalog/policy/add/", form)
    assert response.status_code == 200
    assert message in response.content.decode()


# --- request parameters: API, web form, runbook runs, CLI ---------------------------------------

FREE = template_document(
    "free-text",
    parameters={
        "type": "object",
        "required": ["name"],
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string", "pattern": "^[a-z][a-z0-9-]*$", "maxLength": 30},
            "note": {"type": "string", "maxLength": 200},
            "cpu": {"type": "integer", "minimum": 100, "maximum": 4000, "default": 500},
        },
    },
)


@pytest.fixture
def free_text(db):
    spec, errors = lint_template(FREE)
    assert errors == []
    return template_publish(actor=None, spec=spec)[0]


def api_body(**change) -> dict:
    body = {
        "template": "free-text",
        "team": "payments",
        "parameters": {"name": "fine"},
        "justification": "",
    }
    body.update(change)
    return body


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"parameters": {"name": "fine\n"}}, "parameters", "control characters"),
        ({"parameters": {"name": "fine", "note": "a\tb"}}, "parameters", "control characters"),
        ({"parameters": {"name": "x" * 100_000}}, "parameters", "at most 30 characters"),
        ({"parameters": {"name": "fine", "cpu": 10**30}}, "parameters", "4000 or less"),
        ({"parameters": {"name": "fine", "cpu": "1e3"}}, "parameters", "a whole number"),
        ({"parameters": {"name": "fine", "../etc": 1}}, "parameters", "'../etc' was unexpected"),
        ({"parameters": {"name": ["fine"]}}, "parameters", "Enter text"),
        ({"ttl_hours": 10**30}, "ttl_hours", "hours or less"),
        ({"ttl_hour": 1}, "ttl_hour", "Unknown field"),
        ({"justification": "j" * 2001}, "justification", "at most 2000"),
        ({"template": "../../etc/passwd"}, "template", "slug"),
        ({"team": "<script>"}, "team", "slug"),
        ({"version": "1" * 10_000}, "version", "has no version"),
    ],
)
def test_bad_request_parameters_through_the_api_are_400_naming_the_field(
    api_as, bob, free_text, change, field, message
):
    with changes_nothing():
        response = api_as(bob).post("/api/requests/", api_body(**change), format="json")
    assert response.status_code == 400, response.content
    assert message in json.dumps(response.json()[field])


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (b'{"template": "free-text", "team": ', "application/json", "JSON parse error"),
        (b'{"template": "free-\xff\xfe"}', "application/json", "JSON parse error"),
        (b"\x00\x01\x02", "application/octet-stream", "Unsupported media type"),
        (b"[" * 100_000, "application/json", "JSON parse error"),
    ],
)
def test_a_body_that_is_not_json_is_refused(api_as, bob, free_text, body, content_type, message):
    api = api_as(bob)
    with changes_nothing():
        response = api.generic("POST", "/api/requests/", body, content_type=content_type)
    assert response.status_code in (400, 415)
    assert message in response.json()["detail"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"param_name": "Not Valid"}, "Use the expected format"),
        ({"param_cpu": "lots"}, "Enter a whole number."),
        ({"param_cpu": str(10**30)}, "Use 4000 or less."),
        ({"ttl_hours": "-5"}, "Enter a whole number of hours, 1 or more."),
        ({"ttl_hours": str(10**30)}, "hours or less for this template"),
        ({"justification": "j" * 2001}, "at most 2000 characters"),
        ({"team": "search"}, "Select a valid choice"),
        ({"param_note": "n" * 201}, "at most 200 characters"),
    ],
)
def test_bad_values_in_the_request_form_come_back_on_the_form(
    client, bob, free_text, change, message
):
    client.force_login(bob)
    form = {"team": "payments", "ttl_hours": "24", "param_name": "fine", **change}
    with changes_nothing():
        response = client.post("/catalog/free-text/request/", form)
    assert response.status_code == 200
    assert message in response.content.decode()


@pytest.mark.parametrize(
    ("parameters", "justification", "field", "message"),
    [
        ({"pattern": "sessions:*\n"}, "", "pattern", "control characters"),
        ({"pattern": "*" * 10_000}, "", "pattern", "Use a key prefix"),
        ({"pattern": "a", "../extra": 1}, "", "non_field_errors", "'../extra' was unexpected"),
        ({"pattern": 7}, "", "pattern", "Enter text."),
        ({"pattern": "a"}, "j" * 2001, "justification", "at most 2000"),
    ],
)
def test_bad_runbook_parameters_through_the_api_are_400_naming_the_field(
    api_as, oncall, shipped, parameters, justification, field, message
):
    body = {"parameters": parameters, "justification": justification}
    with changes_nothing():
        response = api_as(oncall).post("/api/runbooks/flush-cache/run/", body, format="json")
    assert response.status_code == 400, response.content
    errors = response.json()
    assert message in json.dumps(errors.get("parameters", {}).get(field) or errors.get(field))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"param_pattern": "a b"}, "Use a key prefix"),
        ({"param_pattern": ""}, "This field is required."),
        ({"team": "nope"}, "Select a valid choice"),
        ({"justification": "j" * 2001}, "at most 2000 characters"),
    ],
)
def test_bad_values_in_the_runbook_form_come_back_on_the_form(
    client, oncall, shipped, change, message
):
    client.force_login(oncall)
    with changes_nothing():
        page = client.post("/runbooks/flush-cache/run/", {"param_pattern": "a", **change})
    assert page.status_code == 200 and message in page.content.decode()


@pytest.mark.django_db(transaction=True)
def test_the_cli_refuses_bad_parameters_and_names_that_leave_their_path(
    live_server, tmp_path, monkeypatch, capsys, bob, free_text
):
    from rest_framework.authtoken.models import Token

    from ssops_cli.main import main

    monkeypatch.setenv("SSOPS_CONFIG", str(tmp_path / "config.json"))
    assert (
        main(["login", "--url", live_server.url, "--token", Token.objects.create(user=bob).key])
        == 0
    )
    capsys.readouterr()
    create = ["request", "create", "free-text", "--team", "payments"]
    cases = [
        ([*create, "--param", "name=fine\n"], 1, "parameters.name: Use no control characters"),
        ([*create, "--param", "name=fine", "--param", "cpu=1e999"], 2, "--param cpu: '1e999'"),
        ([*create, "--param", "=fine"], 2, "use name=value"),
        ([*create, "--param", "name=fine", "--param", "colour=red"], 1, "'colour' was unexpected"),
        (["template", "../teams"], 1, "GET /api/templates/..%2Fteams/ answered 404"),
        (["template", ".."], 2, "'..' is not a name or id"),
        (
            ["request", "show", "../../teams/payments"],
            1,
            "/api/requests/..%2F..%2Fteams%2Fpayments/ answered 404",
        ),
        (
            ["approve", "../../policies/x/evaluate"],
            1,
            "/api/requests/..%2F..%2Fpolicies%2Fx%2Fevaluate/approve/ answered 404",
        ),
    ]
    with changes_nothing():
        for argv, status, message in cases:
            assert main(argv) == status, argv
            assert message in capsys.readouterr().err, argv


# --- NUL characters anywhere in a request -------------------------------------------------------

NUL_REQUESTS = [
    # (who, method, path, body, the place the answer names)
    ("platform_admin", "get", "/api/teams/a%00b/", None, "the URL path"),
    ("platform_admin", "get", "/api/policies/x%00/", None, "the URL path"),
    ("platform_admin", "get", "/api/slos/x%00/", None, "the URL path"),
    (
        "platform_admin",
        "get",
        "/api/platform-metrics/m1/history/?team=a%00",
        None,
        "the query parameter 'team'",
    ),
    ("platform_admin", "get", "/api/job-runs/?name=a%00", None, "the query parameter 'name'"),
    (
        "platform_admin",
        "get",
        "/api/platform-metric-snapshots/?te%00am=a",
        None,
        "the query parameter 'te\\x00am'",
    ),
    ("bob", "get", "/slos/x%00/", None, "the URL path"),
    ("bob", "get", "/dashboards/slos/x%00/", None, "the URL path"),
    ("bob", "get", "/audit/?actor=a%00", None, "the query parameter 'actor'"),
    ("oncall", "post", "/incidents/open/", {"title": "a\x00b"}, "the form field 'title'"),
    (
        "oncall",
        "post",
        "/incidents/open/",
        {"title": "ok", "team": "\x00"},
        "the form field 'team'",
    ),
    (
        None,
        "post",
        "/accounts/login/",
        {"username": "bob\x00", "password": "x"},
        "the form field 'username'",
    ),
    (
        "bob",
        "post",
        "/api/requests/",
        {"template": "free-text", "team": "payments", "parameters": {"name": "a\x00"}},
        "the body, field 'parameters', field 'name'",
    ),
    (
        "platform_admin",
        "post",
        "/api/policies/",
        {"slug": "p", "title": "t", "source": RULE, "examples": [{"name": "\x00"}]},
        "the body, field 'examples', item 0, field 'name'",
    ),
]


@pytest.mark.parametrize(
    ("who", "method", "path", "body", "place"),
    NUL_REQUESTS,
    ids=[f"{r[1]} {r[2]}" for r in NUL_REQUESTS],
)
def test_a_nul_character_anywhere_is_a_400_naming_where(
    request, free_text, shipped, who, method, path, body, place
):
    caller = Client(raise_request_exception=True)
    if who:
        caller.force_login(request.getfixturevalue(who))
    is_json = path.startswith("/api/")
    kwargs = {"content_type": "application/json"} if is_json and body else {}
    payload = json.dumps(body) if is_json and body else body
    with changes_nothing():
        response = getattr(caller, method)(path, payload, **kwargs)
    assert response.status_code == 400
    text = response.json()["detail"] if is_json else response.content.decode()
    assert f"Refused: {place} contains a NUL character" in text


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


# --- FOCUS CSV: billing_import and the upload API -----------------------------------------------

GOOD_FOCUS = focus_csv([charge(1, "10.00", resource="vm-1", tags={"owner": "payments"})])
FOCUS_FILES = [
    (
        "NUL",
        focus_csv([charge(1, "1", ServiceName="VM\x00")]).encode(),
        "row 1 (line 2), column ServiceName: contains a NUL character",
    ),
    (
        "NUL in header",
        GOOD_FOCUS.replace("Tags", "Ta\x00gs", 1).encode(),
        "header, column Ta\\0gs: contains a NUL character",
    ),
    (
        "long text",
        focus_csv([charge(1, "1", ServiceName="V" * 201)]).encode(),
        "row 1 (line 2), column ServiceName: 201 characters long; at most 200",
    ),
    (
        "long resource",
        focus_csv([charge(1, "1", resource="r" * 501)]).encode(),
        "column ResourceId: 501 characters long",
    ),
    (
        "long owner tag",
        focus_csv([charge(1, "1", tags={"owner": "o" * 201})]).encode(),
        "column Tags: the owner tag is longer than 200",
    ),
    (
        "NUL in a tag",
        focus_csv([charge(1, "1", tags={"owner": "pay\x00ments"})]).encode(),
        "column Tags: a tag holds a NUL character",
    ),
    (
        "not utf-8",
        GOOD_FOCUS.replace("compute", "compute\udcff").encode(errors="surrogateescape"),
        "not UTF-8",
    ),
    ("binary", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not UTF-8"),
    (
        "huge number",
        focus_csv([charge(1, "1e400")]).encode(),
        "row 1 (line 2), column BilledCost: '1e400' is out of range",
    ),
    (
        "not a number",
        focus_csv([charge(1, "=1+1")]).encode(),
        "column BilledCost: '=1+1' is not a decimal number",
    ),
    (
        "NaN",
        focus_csv([charge(1, "NaN")]).encode(),
        "column BilledCost: 'NaN' is not a finite decimal number",
    ),
    (
        "duplicate column",
        GOOD_FOCUS.replace("BilledCost,", "BilledCost,BilledCost,", 1).encode(),
        "header, column BilledCost: appears twice",
    ),
    ("short row", (GOOD_FOCUS.rstrip("\n") + "\n1,2,3\n").encode(), "row 2 (line 3): has 3 fields"),
    ("unclosed quote", (GOOD_FOCUS + '"10.00,acct-1').encode(), "row 2 (line 3)"),
    ("empty", b"", "file is empty"),
    (
        "a bad date",
        focus_csv([charge(1, "1", ChargePeriodStart="2026-13-01")]).encode(),
        "column ChargePeriodStart: '2026-13-01' is not an ISO 8601",
    ),
]


@pytest.mark.parametrize(
    ("content", "message"), [c[1:] for c in FOCUS_FILES], ids=[c[0] for c in FOCUS_FILES]
)
def test_billing_import_refuses_a_hostile_file_naming_row_and_column(
    tmp_path, api_as, platform_admin, content, message
):
    billing_import(actor=None, lines=io.StringIO(GOOD_FOCUS), file_name="held.csv")  # kept
    path = tmp_path / "focus.csv"
    path.write_bytes(content)
    with changes_nothing():
        refused = command_error("billing_import", path)
        upload = SimpleUploadedFile("focus.csv", content, content_type="text/csv")
        response = api_as(platform_admin).post("/api/billing/imports/", {"file": upload})
    assert f"refused {path}, nothing was imported" in refused and message in refused
    assert response.status_code == 400
    answer = " ".join(response.json()["file"])
    assert message.split(":")[0] in answer  # the same row and column, or the same reason


def test_an_uploaded_file_name_cannot_leave_its_place(api_as, platform_admin):
    upload = SimpleUploadedFile("../../etc/focus.csv", GOOD_FOCUS.encode(), "text/csv")
    response = api_as(platform_admin).post("/api/billing/imports/", {"file": upload})
    assert response.status_code == 201
    assert response.json()["file_name"] == "focus.csv"


# --- PromQL: a label value stays a value ------------------------------------------------------

HOSTILE_VALUE = 'x"} or vector(1) or {a="'


class CapturingPrometheus:
    """A Prometheus stand-in that records every query and answers with an empty vector."""

    def __init__(self):
        self.queries: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length", 0))
                form = parse_qs(self.rfile.read(length).decode())
                owner.queries += form.get("query", [])
                self.do_GET()

            def do_GET(self):  # noqa: N802
                owner.queries += parse_qs(urlsplit(self.path).query).get("query", [])
                kind = "matrix" if "query_range" in self.path else "vector"
                body = json.dumps({"status": "success", "data": {"resultType": kind, "result": []}})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def prometheus(settings):
    stand_in = CapturingPrometheus()
    settings.PROMETHEUS_URL = stand_in.url
    yield stand_in
    stand_in.close()


def nodes(expr):
    """Every node of a parsed PromQL expression."""
    yield expr
    for name in ("expr", "lhs", "rhs", "param", "vector_selector"):
        child = getattr(expr, name, None)
        if child is not None and not isinstance(child, str | int | float):
            yield from nodes(child)
    for child in getattr(expr, "args", None) or []:
        yield from nodes(child)


def label_values(query: str, label: str) -> list[tuple[str, str]]:
    """(operator, value) of every matcher of `label` in `query`; the query has no vector()."""
    parsed = list(nodes(promql_parser.parse(query)))
    assert not any(isinstance(n, promql_parser.Call) and n.func.name == "vector" for n in parsed), (
        query
    )
    return [
        (str(m.op), m.value)
        for n in parsed
        if isinstance(n, promql_parser.VectorSelector)
        for m in n.matchers.matchers
        if m.name == label
    ]


def test_a_hostile_label_value_cannot_change_the_query_sent_to_prometheus(prometheus, team):
    quoted = promql.quote(HOSTILE_VALUE)
    text = slo_yaml(query=f"sum(http_requests_total{{service={quoted}}})".replace("'", "''"))
    text += "---\n" + slo_yaml(name="plain", query='sum(http_requests_total{service="orders"})')
    slo_import_text(actor=None, text=text, name="hostile.yaml")
    stored = SLO.objects.get(name="orders-availability").numerator_query
    assert promql.parse_counter(stored).matchers[0].value == HOSTILE_VALUE
    out = io.StringIO()
    call_command("slo_evaluate", "--json", stdout=out)
    assert {e["data_status"] for e in json.loads(out.getvalue())} == {"no_data"}
    assert prometheus.queries
    for query in prometheus.queries:
        for op, value in label_values(query, "service"):
            # One selector for both SLOs: a regex whose branches are the two values, escaped.
            matcher = promql.LabelMatcher("service", {"MatchOp.Re": "=~"}.get(op, "="), value)
            assert matcher.matches(HOSTILE_VALUE) and matcher.matches("orders")
            assert not matcher.matches("x")
    rules = io.StringIO()
    call_command("slo_rules", "--slo", "orders-availability", stdout=rules)
    for group in yaml.safe_load(rules.getvalue())["groups"]:
        for rule in group["rules"]:
            if "record" in rule and "increase(" in rule["expr"]:
                values = {
                    v for _, v in label_values(rule["expr"].replace(" or vector(0)", ""), "service")
                }
                assert values == {HOSTILE_VALUE, "orders"}  # its bad and its total selector


def test_a_runbook_check_puts_parameters_into_promql_as_values(prometheus):
    spec = {
        "promql": 'sum(up{service="${{ parameters.service }}"})',
        "expect": {"op": ">=", "value": 1},
    }
    context = {"parameters": {"service": HOSTILE_VALUE}, "request": {}, "steps": {}}
    check = check_promql(spec, context=context, url=prometheus.url, timeout=2)
    assert check.passed is None  # no data: the hostile value matched no series
    (query,) = prometheus.queries
    assert label_values(query, "service") == [("MatchOp.Equal", HOSTILE_VALUE)]


def test_a_runbook_check_may_not_put_a_text_parameter_outside_quotes():
    document = yaml.safe_load((DEFAULT_ROOT / RUNBOOK).read_text())
    document["spec"]["verify"] = {
        "promql": "sum(cache_keys) > ${{ parameters.pattern }}",
        "expect": {"op": "==", "value": 1},
    }
    spec, errors = lint_runbook(document)
    assert spec is None
    assert [(e.path, e.message[:38]) for e in errors] == [
        ("spec.verify.promql", "put ${{ parameters.pattern }} inside q")
    ]


# --- Policies: user text in a policy's message cannot rewrite its verdict -----------------------


def test_a_quote_in_user_input_cannot_empty_a_deny_list(api_as, bob, free_text):
    policy_save(
        actor=None,
        slug="no-secrets",
        title="No secrets",
        source="package no_secrets\n\nimport rego.v1\n\ndeny contains msg if {\n"
        '  contains(input.request.justification, "password")\n'
        '  msg := sprintf("do not write %s", [input.request.justification])\n}\n',
    )
    sneaky = 'password x"], "deny": [], "y": ["'
    response = api_as(bob).post("/api/requests/", api_body(justification=sneaky), format="json")
    assert response.status_code == 201
    assert (response.json()["state"], response.json()["deny_reasons"]) == (
        "denied",
        [f"do not write {sneaky} (policy no-secrets)"],
    )


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
    book = yaml.safe_load((DEFAULT_ROOT / RUNBOOK).read_text())
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


# --- CSV exports: no formulas ------------------------------------------------------------------

FORMULAS = ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)", "\tx"]


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(api_as, executive):
    rows = [
        charge(1, "1.00", ServiceName=FORMULAS[0], resource=FORMULAS[1]),
        charge(2, "-1.50", ChargeCategory="Credit", ServiceName=FORMULAS[2]),
        charge(3, "2.00", ChargeDescription=FORMULAS[3]),
    ]
    billing_import(actor=None, lines=io.StringIO(focus_csv(rows)), file_name="f.csv")
    response = api_as(executive).get("/api/billing/rows/?format=csv")
    assert response["Content-Type"].startswith("text/csv")
    cells = [c for row in csv.reader(io.StringIO(response.content.decode())) for c in row]
    for formula in FORMULAS[:4]:  # (the FOCUS reader strips a leading tab)
        assert formula not in cells and f"'{formula}" in cells
    assert "-1.5000000000" in cells  # a number stays a number


def test_dashboard_csv_neutralises_formulas_and_keeps_numbers():
    table = Table(
        "t",
        "T",
        ["a", "b", "c"],
        rows=[[cell(FORMULAS[0]), cell(-3), cell("-0.25")], [cell("@x"), cell(2.5), cell("ok")]],
    )
    response = csv_response([table], "t", "export")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[1:] == [[f"'{FORMULAS[0]}", "-3", "-0.25"], ["'@x", "2.5", "ok"]]


def test_an_over_long_decision_comment_decides_nothing(client, team, bob, carol):
    document = copy.deepcopy(FREE)
    document["spec"].update(riskTier="medium", approvals={"required": 1, "timeout": "24h"})
    template_publish(actor=None, spec=lint_template(document)[0])
    waiting = request_submit(
        actor=bob, template="free-text", team=team, parameters={"name": "fine"}
    )
    assert waiting.state == "pending_approval"
    client.force_login(carol)
    for verb in ("approve", "reject"):
        with changes_nothing():
            response = client.post(
                f"/requests/{waiting.uuid}/{verb}/", {"comment": "c" * 2001}, follow=True
            )
        assert "at most 2000 characters" in response.content.decode()


def test_an_over_long_incident_title_is_refused_not_cut(client, oncall):
    client.force_login(oncall)
    with changes_nothing():
        response = client.post("/incidents/open/", {"title": "t" * 201}, follow=True)
    assert "Keep it to 200 characters (this is 201)" in response.content.decode()


def test_a_misspelt_field_is_refused_on_every_api_input(api_as, team, bob, carol, oncall):
    """Every input serializer refuses fields it does not know (ssops_site.serializers): a
    misspelt field would otherwise be dropped and the call go ahead without it."""
    from catalog.api import provisioning as provisioning_api
    from catalog.api import serializers as catalog_api
    from slo.api import serializers as slo_api
    from slo.platform.api import serializers as platform_api
    from ssops_site.serializers import StrictInput

    document = copy.deepcopy(FREE)
    document["spec"].update(riskTier="medium", approvals={"required": 1, "timeout": "24h"})
    template_publish(actor=None, spec=lint_template(document)[0])
    waiting = request_submit(
        actor=bob, template="free-text", team=team, parameters={"name": "fine"}
    )
    calls = [
        (carol, f"/api/requests/{waiting.uuid}/approve/", {"comemnt": "fine by me"}, "comemnt"),
        (oncall, "/api/incidents/", {"title": "checkout down", "severty": "high"}, "severty"),
    ]
    for user, url, body, field in calls:
        with changes_nothing():
            response = api_as(user).post(url, body, format="json")
        assert response.status_code == 400, (url, response.content)
        assert "Unknown field" in response.json()[field][0]
    # Every serializer the API reads input with is strict.
    inputs = {
        catalog_api.DeprecateSerializer,
        catalog_api.RequestCreateSerializer,
        catalog_api.DecisionSerializer,
        catalog_api.BreakGlassSerializer,
        catalog_api.PolicySerializer,
        catalog_api.PolicyTestSerializer,
        catalog_api.QuotaSerializer,
        catalog_api.BudgetSerializer,
        provisioning_api.ExtendSerializer,
        provisioning_api.RunbookRunCreateSerializer,
        provisioning_api.CommentSerializer,
        platform_api.BillingUploadSerializer,
        platform_api.OncallActionSerializer,
        platform_api.IncidentSerializer,
        platform_api.RatingInputSerializer,
        slo_api.SLOSerializer,
    }
    assert [s.__name__ for s in inputs if not issubclass(s, StrictInput)] == []
