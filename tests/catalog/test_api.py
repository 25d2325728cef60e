"""The catalog API: in the OpenAPI schema, authenticated, scoped to the caller."""

import pytest

from catalog.services import request_break_glass, request_mark_ready

pytestmark = pytest.mark.django_db


def test_every_catalog_endpoint_is_in_the_openapi_schema(api_as, bob):
    schema = api_as(bob).get("/api/schema/?format=json").json()
    for path in (
        "/api/me/",
        "/api/templates/",
        "/api/templates/{slug}/",
        "/api/templates/{slug}/versions/{version}/",
        "/api/templates/{slug}/deprecate/",
        "/api/requests/",
        "/api/requests/{uuid}/",
        "/api/requests/{uuid}/approve/",
        "/api/requests/{uuid}/reject/",
        "/api/requests/{uuid}/cancel/",
        "/api/requests/{uuid}/break-glass/",
        "/api/approvals/",
        "/api/policies/",
        "/api/policies/{slug}/evaluate/",
        "/api/policy-decisions/",
        "/api/teams/{slug}/usage/",
        "/api/teams/{slug}/quotas/{kind}/",
        "/api/teams/{slug}/budget/",
    ):
        assert path in schema["paths"], path
    create = schema["paths"]["/api/requests/"]["post"]
    assert "RequestCreate" in str(create["requestBody"])


def test_anonymous_callers_get_401(api):
    assert api.get("/api/templates/").status_code == 401
    assert api.post("/api/requests/", {}, format="json").status_code == 401


def test_me_says_who_and_which_teams(api_as, carol):
    assert api_as(carol).get("/api/me/").json() == {
        "username": "carol",
        "platform_admin": False,
        "teams": [{"slug": "payments", "role": "approver"}],
    }


def test_templates_list_search_detail_and_version(api_as, bob, demo_templates):
    api = api_as(bob)
    assert api.get("/api/templates/").json()["count"] == 4
    found = api.get("/api/templates/?q=database").json()["results"]
    assert [t["slug"] for t in found] == ["postgres-database"]
    assert found[0]["latest_version"] == "1.0.0" and found[0]["tags"] == ["database", "postgres"]
    detail = api.get("/api/templates/postgres-database/").json()
    assert detail["latest"]["parameters"]["required"] == ["name", "size", "environment"]
    assert sorted(v["version"] for v in detail["versions"]) == ["0.9.0", "1.0.0"]
    old = api.get("/api/templates/postgres-database/versions/0.9.0/").json()
    assert old["version"] == "0.9.0" and old["status"] == "published"


def test_only_platform_admins_deprecate(api_as, bob, platform_admin, demo_templates):
    body = {"version": "0.9.0", "reason": "old"}
    assert (
        api_as(bob)
        .post("/api/templates/postgres-database/deprecate/", body, format="json")
        .status_code
        == 403
    )
    done = api_as(platform_admin).post(
        "/api/templates/postgres-database/deprecate/", body, format="json"
    )
    assert done.status_code == 200 and done.json()["status"] == "deprecated"


def test_request_filters(api_as, submit, widget, gadget, bob, carol):
    submit("widget")
    submit("gadget")
    api = api_as(carol)
    assert api.get("/api/requests/").json()["count"] == 2
    assert api.get("/api/requests/?mine=true").json()["count"] == 0
    assert api.get("/api/requests/?state=pending_approval").json()["count"] == 1
    assert api.get("/api/requests/?template=widget&team=payments").json()["count"] == 1


def test_the_api_shows_a_request_in_every_state_it_reaches(
    submit, widget, gadget, platform_admin, api_as, bob, make_policy
):
    make_policy("no-four", 'deny contains "not four" if input.request.parameters.name == "four"')
    ready = submit(justification="needed", ttl_hours=5)
    request_mark_ready(request=ready, outputs={"namespace": "payments-one", "n": 1})
    waiting = submit("gadget", parameters={"name": "payments-two"})
    glass = submit("gadget", parameters={"name": "payments-three"})
    request_break_glass(
        request=glass, actor=platform_admin, reason="checkout outage, no approver awake", hours=2
    )
    denied = submit(parameters={"name": "four"})
    for request in (ready, waiting, glass, denied):
        request.refresh_from_db()
    assert [r.state for r in (ready, waiting, glass, denied)] == [
        "ready",
        "pending_approval",
        "provisioning",
        "denied",
    ]
    api = api_as(bob)
    for request in (ready, waiting, glass, denied):
        shown = api.get(f"/api/requests/{request.uuid}/").json()
        assert (shown["state"], shown["team"], shown["template"]) == (
            request.state,
            "payments",
            request.template_version.template.slug,
        )
        assert shown["created_at"].endswith("Z")
    assert api.get(f"/api/requests/{ready.uuid}/").json()["outputs"]["n"] == 1
    assert api.get(f"/api/requests/{denied.uuid}/").json()["deny_reasons"]
    assert api.get(f"/api/requests/{glass.uuid}/").json()["break_glass_detail"]["reason"]


def test_a_time_with_any_iso_offset_filters_decisions(api_as, platform_admin):
    """Found by the schema fuzzer on PostgreSQL, which holds no offset beyond ±15:59."""
    response = api_as(platform_admin).get(
        "/api/policy-decisions/", {"since": "4081-06-30T15:31:34-17:11"}
    )
    assert response.status_code == 200 and response.json()["count"] == 0
