"""Authorization failures land in the audit store (ssops_site/authz_audit.py): who was refused
what, with the request id and the refusal's reason, never the body or the query string; an
object hidden behind a 404 is recorded where only platform admins and executives read it;
missing pages and anonymous callers without credentials are not recorded."""

import logging
import uuid

import pytest
from django.db import DatabaseError
from django.test import Client

from audit.models import AuditEvent
from tests.dashboards import data
from tests.factories import api_key

pytestmark = pytest.mark.django_db


def authz_events():
    return list(AuditEvent.objects.filter(action__regex=r"^(authz|authn)\.").order_by("seq"))


@pytest.fixture
def waiting(team, bob):
    """A payments request of bob's, waiting for approval."""
    return data.add_requests(team, bob, 3)[2]


def test_a_refusal_is_recorded_with_who_what_where_and_why(client, bob):
    client.force_login(bob)
    response = client.post(
        "/api/policies/?token=query-secret",
        {"slug": "mine", "title": "Mine", "source": "package mine", "note": "body-secret"},
        content_type="application/json",
        headers={"X-Request-ID": "req-authz-1"},
    )
    assert response.status_code == 403
    [event] = authz_events()
    assert (event.action, event.actor_id, event.request_id) == (
        "authz.denied",
        bob.pk,
        "req-authz-1",
    )
    assert (event.object_type, event.object_id) == ("http.view", "api:policy-list")
    assert event.content["payload"] == {
        "method": "POST",
        "path": "/api/policies/",
        "view": "api:policy-list",
        "status": 403,
        "reason": "Only platform admins may change this.",
    }
    assert "query-secret" not in event.body and "body-secret" not in event.body


def test_a_page_refusal_keeps_the_services_reason(client, bob, waiting):
    client.force_login(bob)
    assert client.post(f"/requests/{waiting.uuid}/approve/").status_code == 403
    [event] = authz_events()
    assert event.content["payload"]["view"] == "catalog:request-approve"
    assert event.content["payload"]["reason"] == "Nobody can approve or reject their own request."


def test_a_refusal_through_a_token_names_the_tokens_user(client, bob):
    key = api_key(bob)
    response = client.get("/api/job-runs/", headers={"Authorization": f"Token {key}"})
    assert response.status_code == 403
    [event] = authz_events()
    assert (event.action, event.actor_id) == ("authz.denied", bob.pk)
    assert key not in event.body


def test_a_csrf_failure_of_a_signed_in_user_is_recorded(bob, waiting):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(bob)
    assert browser.post(f"/requests/{waiting.uuid}/cancel/").status_code == 403
    [event] = authz_events()
    assert (event.action, event.actor_id) == ("authz.denied", bob.pk)
    assert event.content["payload"]["view"] == "catalog:request-cancel"


def test_another_teams_object_behind_a_404_is_recorded_out_of_the_probers_sight(
    api_as, charlie, platform_admin, waiting
):
    prober = api_as(charlie)
    assert prober.get(f"/api/requests/{waiting.uuid}/").status_code == 404
    [event] = authz_events()
    assert event.action == "authz.hidden" and event.actor_id is None and event.team_id is None
    assert (event.object_type, event.object_id) == ("catalog.request", str(waiting.uuid))
    assert event.content["payload"]["user"] == "charlie"
    assert event.content["payload"]["view"] == "api:request-detail"
    # Were it among charlie's own events, the audit list would tell him the request exists.
    listed = prober.get("/api/audit/events/?action=authz.hidden").json()["results"]
    assert listed == []
    assert prober.get(f"/api/audit/events/{event.uuid}/").status_code == 404
    admin = api_as(platform_admin)
    seen = admin.get("/api/audit/events/?action=authz.hidden").json()["results"]
    # The second probe (of the event itself) is recorded the same way.
    assert [(e["object_type"], e["object_id"]) for e in seen] == [
        ("audit.auditevent", event.uuid),
        ("catalog.request", str(waiting.uuid)),
    ]


def test_an_slo_hidden_by_name_is_recorded(client, charlie, other_team, team):
    slo = data.add_slos(team, 1)[0]
    client.force_login(charlie)
    assert client.get(f"/slos/{slo.name}/").status_code == 404
    assert client.get(f"/api/slos/{slo.uuid}/").status_code == 404
    assert [(e.object_type, e.object_id) for e in authz_events()] == [
        ("slo.slo", str(slo.uuid))
    ] * 2


def test_missing_objects_and_pages_are_not_recorded(client, charlie, other_team):
    client.force_login(charlie)
    for path in (
        f"/api/requests/{uuid.uuid4()}/",
        f"/requests/{uuid.uuid4()}/",
        "/api/requests/not-a-uuid/",
        "/api/slos/no-such-slo/",
        "/teams/no-such-team/",
        "/no-such-page/",
    ):
        assert client.get(path).status_code == 404, path
    assert authz_events() == []


def test_anonymous_callers_without_credentials_are_not_recorded(client, waiting):
    assert client.get("/api/requests/").status_code == 401
    assert client.get(f"/requests/{waiting.uuid}/").status_code == 302
    assert client.post(f"/api/requests/{waiting.uuid}/approve/").status_code == 401
    assert authz_events() == []


def test_a_wrong_token_is_recorded_as_a_failed_authentication(client):
    response = client.get(
        "/api/requests/",
        headers={"Authorization": "Token wrong-token-value", "X-Request-ID": "req-authn-1"},
    )
    assert response.status_code == 401
    [event] = authz_events()
    assert (event.action, event.actor_id, event.request_id) == ("authn.failed", None, "req-authn-1")
    payload = event.content["payload"]
    assert (payload["scheme"], payload["view"], payload["status"]) == (
        "Token",
        "api:request-list",
        401,
    )
    assert "wrong-token-value" not in event.body


def test_the_answer_stands_when_the_audit_store_fails(client, bob, monkeypatch, caplog):
    def broken(**kwargs):
        raise DatabaseError("audit store down")

    monkeypatch.setattr("audit.authz.audit_record", broken)
    client.force_login(bob)
    with caplog.at_level(logging.ERROR, logger="audit.authz"):
        assert client.get("/api/job-runs/").status_code == 403
    assert "could not audit the 403 answer to api:job-run-list" in caplog.text
