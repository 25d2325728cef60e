"""The API keeps its published contract, case by case, on the demo data: each answer the fuzz
test (test_api_fuzz.py) found off the schema or failing with a 500, as a plain test, and the
error answers every operation declares."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.services import personal_token_create, service_token_create
from catalog.models import Quota, Request, RequestTransition, TemplateVersion
from core.pagination import MAX_OFFSET
from core.schema import field_errors
from metrics.models import Incident
from provisioning.models import DriftFinding, Resource
from slo.models import SLO, Service
from slo.services import adjustment_create
from teams.models import Team
from tests.core.contract import assert_conforms, published_schema

# ¦, U+0082 and U+D4736: a path segment a Latin-1 encoder cannot write (the fuzzer's case).
OUTSIDE_LATIN1 = "\xa6\x82\U000d4736"


@pytest.fixture
def admin_api(demo_admin, db):
    api = APIClient()
    api.force_authenticate(user=demo_admin)
    return api


def operations():
    for path, methods in published_schema().raw_schema["paths"].items():
        for method in methods:
            yield path, method.upper()


# --- every read, on objects that exist --------------------------------------------------------


def _objects(body):
    """Every JSON object in an answer, outermost first (a page's items, a detail's parts)."""
    pending = [body]
    while pending:
        value = pending.pop(0)
        if isinstance(value, dict):
            yield value
            pending += value.values()
        elif isinstance(value, list):
            pending += value


def _identifier(obj: dict, name: str):
    """What an object offers for a path parameter called `name` (an SLO's `{key}` is its name
    or its UUID)."""
    value = obj.get(name)
    if value is None and name == "key":
        value = obj.get("name")
    return value if isinstance(value, str | int) and value != "" else None


@pytest.fixture
def objects_the_demo_lacks(demo_admin):
    """What the demo has no reason to hold: the admin's own token, a team's CI token, and a
    drift finding (the demo provisions no real database or cluster a scan could find drifted)."""
    personal_token_create(actor=demo_admin, name="laptop", scopes=["read"])
    service_token_create(
        actor=demo_admin, team=Team.objects.get(slug="payments"), name="deploy", scopes=["read"]
    )
    now = timezone.now()
    adjustment_create(
        actor=demo_admin,
        service=Service.objects.get(name="checkout"),
        name="sunday-upgrade",
        first_start=now + timedelta(days=1),
        duration=timedelta(hours=1),
        rrule="FREQ=WEEKLY",
    )
    resource = Resource.objects.filter(team__slug="payments").first()
    DriftFinding.objects.create(
        resource=resource,
        team=resource.team,
        differences=[{"what": "owner", "expected": "payments", "found": "postgres"}],
        first_seen_at=now,
        last_seen_at=now,
    )


GATE = "/api/gates/{service}/"


def test_every_read_answers_as_the_schema_says_on_objects_that_exist(
    admin_api, objects_the_demo_lacks
):
    """Each GET operation, walked from the lists down to the objects they name (a template's
    versions from the template, an SLO's snapshots from the SLO): 200 and the declared body.
    An endpoint added later is walked too; a read no list leads to fails here, so that the
    demo (or `objects_the_demo_lacks`) holds one of its objects."""
    reads = [p for p, methods in published_schema().raw_schema["paths"].items() if "get" in methods]
    pending = [(path, path) for path in reads if "{" not in path]
    # No list leads to a deploy gate: it is asked by a service's name (open 200, frozen 409).
    pending.append((GATE, GATE.replace("{service}", "checkout")))
    reached: dict[str, str] = {}
    while pending:
        path, url = pending.pop(0)
        if path in reached:
            continue
        response = admin_api.get(url)
        expected = {200, 409} if path == GATE else {200}
        assert response.status_code in expected, f"{url}: {response.content[:300]}"
        assert_conforms(response, path)
        reached[path] = url
        objects = list(_objects(response.json()))
        for deeper in reads:
            rest = deeper[len(path) :]
            if deeper in reached or not deeper.startswith(path) or not rest:
                continue
            static, brace, after = rest.partition("{")
            if not brace:
                pending.append((deeper, url + rest))
                continue
            name, tail = after.split("}", 1)
            found = next((v for v in (_identifier(o, name) for o in objects) if v), None)
            if found is not None and "{" not in tail:
                pending.append((deeper, url + static + quote(str(found), safe="") + tail))
    unreached = sorted(set(reads) - set(reached))
    assert unreached == [], f"no object of the demo leads to {unreached}"


# --- lists that can grow are pages -----------------------------------------------------------


def test_a_teams_quotas_are_a_page_like_every_list(admin_api):
    quotas = Quota.objects.filter(team__slug="payments")
    response = admin_api.get("/api/teams/payments/quotas/")
    assert response.status_code == 200
    assert response.json()["count"] == quotas.count() > 1
    assert [q["kind"] for q in response.json()["results"]] == sorted(q.kind for q in quotas)
    assert_conforms(response, "/api/teams/{slug}/quotas/")
    first = admin_api.get("/api/teams/payments/quotas/?limit=1").json()
    assert len(first["results"]) == 1 and first["next"]


def test_an_incidents_actions_are_a_page_and_their_csv_is_whole(admin_api):
    incident = Incident.objects.filter(actions__isnull=False).first()
    logged = incident.actions.count()
    response = admin_api.get(f"/api/incidents/{incident.uuid}/actions/?limit=1")
    assert response.status_code == 200 and response.json()["count"] == logged > 1
    assert len(response.json()["results"]) == 1
    assert_conforms(response, "/api/incidents/{uuid}/actions/")
    csv = admin_api.get(f"/api/incidents/{incident.uuid}/actions/?format=csv&limit=1")
    assert csv["Content-Type"].startswith("text/csv")
    assert len(csv.content.decode().strip().splitlines()) == 1 + logged
    assert_conforms(csv, "/api/incidents/{uuid}/actions/")


def test_an_slos_alert_events_are_a_page_newest_first(admin_api):
    slo = SLO.objects.filter(alert_events__isnull=False).distinct().first()
    response = admin_api.get(f"/api/slos/{slo.name}/alert-events/")
    assert response.status_code == 200
    assert response.json()["count"] == slo.alert_events.count()
    moments = [event["at"] for event in response.json()["results"]]
    assert moments and moments == sorted(moments, reverse=True)
    assert_conforms(response, "/api/slos/{key}/alert-events/")


# --- null where null is a real answer --------------------------------------------------------


def test_a_transition_ssops_made_by_itself_has_no_actor(admin_api):
    by_itself = RequestTransition.objects.filter(actor=None).select_related("request").first()
    response = admin_api.get(f"/api/requests/{by_itself.request.uuid}/")
    assert response.status_code == 200
    assert any(t["actor"] is None for t in response.json()["transitions"])
    assert_conforms(response, "/api/requests/{uuid}/")


def test_a_request_that_reserved_nothing_has_no_reservation(admin_api):
    unreserved = Request.objects.filter(reservation__isnull=True).first()
    response = admin_api.get(f"/api/requests/{unreserved.uuid}/")
    assert response.status_code == 200 and response.json()["reservation"] is None
    assert_conforms(response, "/api/requests/{uuid}/")


def test_a_template_with_every_version_deprecated_has_no_latest_version(admin_api):
    slug = "kubernetes-namespace"
    for version in TemplateVersion.objects.filter(template__slug=slug, status="published"):
        deprecated = admin_api.post(
            f"/api/templates/{slug}/deprecate/", {"version": version.version}, format="json"
        )
        assert deprecated.status_code == 200, deprecated.content
    response = admin_api.get(f"/api/templates/{slug}/")
    assert response.status_code == 200
    assert response.json()["latest_version"] is None and response.json()["latest"] is None
    assert {v["status"] for v in response.json()["versions"]} == {"deprecated"}
    assert_conforms(response, "/api/templates/{slug}/")
    assert slug not in [t["slug"] for t in admin_api.get("/api/templates/").json()["results"]]


# --- no 500 because of the URL -----------------------------------------------------------------


@pytest.mark.parametrize(
    "path,method", [(p, m) for p, m in operations() if "{" in p], ids=lambda v: str(v)
)
def test_a_path_parameter_outside_latin1_is_not_found_not_a_server_error(admin_api, path, method):
    url = path
    for name in [part[1:-1] for part in path.split("/") if part.startswith("{")]:
        url = url.replace("{" + name + "}", OUTSIDE_LATIN1)
    response = admin_api.generic(method, url, "{}", content_type="application/json")
    # Not found; or, where the body is read first, its missing fields refused.
    assert response.status_code in (404, 400), response.content
    assert_conforms(response, path, method)


@pytest.mark.parametrize(
    "url",
    [
        "/api/slos/checkout-availability/snapshots/?since={}",
        "/api/audit/events/?since={}",
        "/api/policy-decisions/?since={}",
        "/api/platform-metric-snapshots/?until={}",
        "/api/billing/rows/?since={}",
        "/api/probes/?since={}",
    ],
)
def test_a_time_with_any_offset_is_read_and_an_impossible_one_refused(admin_api, url):
    """PostgreSQL holds no offset beyond ±15:59, yet ISO 8601 allows up to ±23:59: the time is
    compared in UTC. A date that does not exist, or a time with no UTC instant in the years 1
    to 9999, answers 400 naming the parameter."""
    name = url.split("?")[1].split("=")[0]
    path = url.split("?")[0].replace("checkout-availability", "{key}")
    far = admin_api.get(url.format("0311-07-03T22:56:09-16:53"))
    assert far.status_code == 200, far.content
    assert_conforms(far, path)
    for impossible in ("0001-01-01T00:00:00+05:00", "2026-02-30T00:00:00Z"):
        refused = admin_api.get(url.format(impossible.replace("+", "%2B")))
        assert refused.status_code == 400 and list(refused.json()) == [name], refused.content
        assert_conforms(refused, path)


def test_paging_parameters_out_of_range_are_refused(admin_api):
    assert admin_api.get(f"/api/teams/?offset={MAX_OFFSET}").json()["results"] == []
    for query in (f"offset={MAX_OFFSET + 1}", "offset=-1", "limit=0", "limit=1001"):
        refused = admin_api.get(f"/api/teams/?{query}")
        assert refused.status_code == 400, query
        assert list(refused.json()) == [query.split("=")[0]]
        assert_conforms(refused, "/api/teams/")
    limit = {
        p["name"]: p["schema"]
        for p in published_schema()["/api/teams/"]["GET"].definition.raw["parameters"]
    }
    assert limit["limit"] == {"type": "integer", "minimum": 1, "maximum": 1000}
    assert limit["offset"] == {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET}


def test_an_unknown_format_is_a_bad_parameter_and_an_unknown_url_a_json_404(admin_api):
    refused = admin_api.get("/api/budgets/?format=xml")
    assert refused.status_code == 400
    assert refused.json() == {"format": ["'xml' is not a format; use json, api, csv."]}
    assert_conforms(refused, "/api/budgets/")
    for url in ("/api/teams/payments.xml/", "/api/no-such-thing/"):
        missing = admin_api.get(url)
        assert missing.status_code == 404 and "detail" in missing.json(), url


# --- the error answers every operation declares --------------------------------------------


# Operations that answer without credentials: `ssops login` before it holds a token.
PUBLIC = {"/api/auth/oidc/", "/api/auth/oidc/device-token/"}


@pytest.mark.parametrize("path,method", list(operations()), ids=lambda v: str(v))
def test_every_operation_declares_its_errors_and_answers_401_as_declared(db, path, method):
    declared = published_schema()[path][method].definition.raw["responses"]
    expected = {"400", "429"} | ({"404"} if "{" in path else set())
    if path not in PUBLIC:
        expected.add("401")
    if method not in ("GET", "HEAD", "OPTIONS"):
        expected.add("403")
    assert expected <= set(declared), f"{method} {path} declares {sorted(declared)}"
    for status in expected:
        assert "application/json" in declared[status]["content"], (method, path, status)
    url = path.replace("{", "").replace("}", "")
    anonymous = APIClient().generic(method, url, "{}", content_type="application/json")
    if path in PUBLIC:
        assert anonymous.status_code != 401 and "401" not in declared
    else:
        assert anonymous.status_code == 401 and anonymous["WWW-Authenticate"] == "Token"
    assert_conforms(anonymous, path, method)


def test_field_errors_have_one_shape():
    assert field_errors({"since": "use ISO 8601"}) == {"since": ["use ISO 8601"]}
    assert field_errors(["The request is ready."]) == {
        "non_field_errors": ["The request is ready."]
    }
    assert field_errors(
        {"parameters": {"name": ["required"]}, "teams": [{}, {"slug": ["bad"]}]}
    ) == {
        "parameters": {"name": ["required"]},
        "teams": {"1": {"slug": ["bad"]}},
    }


def test_a_refused_field_answers_in_the_declared_shape(admin_api):
    refused = admin_api.get("/api/slos/checkout-availability/snapshots/?since=yesterday")
    assert refused.status_code == 400
    assert refused.json() == {"since": ["use ISO 8601, e.g. 2026-01-01T00:00:00Z"]}
    assert_conforms(refused, "/api/slos/{key}/snapshots/")


def test_an_unknown_metric_filter_is_a_bad_parameter_and_an_unknown_request_not_found(admin_api):
    refused = admin_api.get("/api/platform-metric-snapshots/?metric=M99")
    assert refused.status_code == 400 and list(refused.json()) == ["metric"]
    assert_conforms(refused, "/api/platform-metric-snapshots/")
    rating = {"request": "00000000-0000-4000-8000-000000000000", "score": 5}
    missing = admin_api.post("/api/ratings/", rating, format="json")
    assert missing.status_code == 404
    assert_conforms(missing, "/api/ratings/", "POST")


@pytest.mark.parametrize("method", ["put", "patch"])
def test_a_nul_in_a_form_sent_with_put_or_patch_is_refused_like_one_posted(admin_api, method):
    """Django parses form bodies for POST only; the API's parsers read them for PUT and PATCH
    too, so a NUL there reached PostgreSQL (a 500 on `PUT /api/slos/{key}/`)."""
    urlencoded = admin_api.generic(
        method.upper(),
        "/api/slos/checkout-availability/",
        "name=v0&team=a%00b",
        content_type="application/x-www-form-urlencoded",
    )
    multipart = getattr(admin_api, method)(
        "/api/slos/checkout-availability/", {"name": "v0", "team": "a\x00b"}, format="multipart"
    )
    for refused in (urlencoded, multipart):
        assert refused.status_code == 400
        assert refused.json()["detail"].startswith("Refused: the form field 'team' contains")
        assert_conforms(refused, "/api/slos/{key}/", method)


def test_a_cursor_the_list_did_not_give_is_a_bad_parameter(admin_api):
    first = admin_api.get("/api/audit/events/?limit=2")
    assert admin_api.get(first.json()["next"]).status_code == 200
    refused = admin_api.get("/api/audit/events/?cursor=not-a-cursor")
    assert refused.status_code == 400 and list(refused.json()) == ["cursor"]
    assert_conforms(refused, "/api/audit/events/")
