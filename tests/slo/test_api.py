"""The SLO API: listed to whom may see, written by platform admins and the owner team's admins,
validated like an import, audited, and described in the OpenAPI schema."""

import pytest

from audit.models import AuditEvent
from slo.models import SLO, Service, Snapshot

pytestmark = pytest.mark.django_db

NEW = {
    "name": "orders-availability",
    "service": "orders",
    "team": "payments",
    "objective": 0.999,
    "window_duration": "28d",
    "numerator_kind": "bad",
    "numerator_query": 'sum(http_requests_total{service="orders",code=~"5.."})',
    "total_query": 'http_requests_total{service="orders"}',
}


def names(response):
    return sorted(item["name"] for item in response.json()["results"])


def test_members_list_their_teams_slos_only(api_as, bob, charlie, workload_slos):
    assert "search-availability" not in names(api_as(bob).get("/api/slos/"))
    assert names(api_as(charlie).get("/api/slos/")) == ["search-availability"]


def test_on_call_executives_and_platform_admins_list_every_slo(
    api_as, oncall, executive, platform_admin, workload_slos
):
    for user in (oncall, executive, platform_admin):
        assert len(names(api_as(user).get("/api/slos/"))) == SLO.objects.count()


def test_an_outsider_gets_404_for_another_teams_slo(api_as, charlie, workload_slos):
    assert api_as(charlie).get("/api/slos/checkout-availability/").status_code == 404


def test_an_slo_is_found_by_name_or_uuid(api_as, bob, workload_slos):
    slo = SLO.objects.get(name="checkout-availability")
    by_uuid = api_as(bob).get(f"/api/slos/{slo.uuid}/").json()
    assert by_uuid == api_as(bob).get("/api/slos/checkout-availability/").json()
    assert by_uuid["window"] == "30d" and by_uuid["status"]["data_status"] == ""


def test_the_list_filters_by_team_and_status(api_as, platform_admin, workload_slos):
    api = api_as(platform_admin)
    assert names(api.get("/api/slos/?team=search")) == ["search-availability"]
    SLO.objects.filter(name="ghost-availability").update(data_status="no_data")
    assert names(api.get("/api/slos/?data_status=no_data")) == ["ghost-availability"]


def test_a_team_admin_creates_an_slo_and_its_service(api_as, alice):
    response = api_as(alice).post("/api/slos/", NEW, format="json")
    assert response.status_code == 201, response.json()
    slo = SLO.objects.get(name="orders-availability")
    assert slo.numerator_query == 'http_requests_total{service="orders",code=~"5.."}'
    assert Service.objects.get(name="orders").team.slug == "payments"
    assert AuditEvent.objects.filter(action="slo.slo.created", actor_name="alice").exists()
    assert AuditEvent.objects.filter(action="slo.service.created").exists()


@pytest.mark.parametrize("who", ["bob", "carol", "charlie", "executive", "oncall"])
def test_only_admins_of_the_team_may_create(api_as, request, who, team):
    user = request.getfixturevalue(who)
    assert api_as(user).post("/api/slos/", NEW, format="json").status_code == 403
    assert not SLO.objects.exists()


def test_a_team_admin_cannot_move_an_slo_to_a_team_they_do_not_run(
    api_as, alice, other_team, workload_slos
):
    response = api_as(alice).patch(
        "/api/slos/checkout-availability/", {"team": "search"}, format="json"
    )
    assert response.status_code == 403
    assert SLO.objects.get(name="checkout-availability").team.slug == "payments"


def test_a_change_is_validated_like_an_import_and_changes_nothing_when_refused(
    api_as, alice, workload_slos
):
    api = api_as(alice)
    response = api.patch(
        "/api/slos/checkout-availability/",
        {"total_query": "sum by (code) (http_requests_total)", "objective": 1.5},
        format="json",
    )
    assert response.status_code == 400
    assert "group both by the same labels" in response.json()["total_query"][0]
    assert "between 0 and 1" in response.json()["objective"][0]
    slo = SLO.objects.get(name="checkout-availability")
    assert slo.objective == 0.999 and slo.total_query == 'http_requests_total{service="checkout"}'


def test_a_change_is_audited_with_before_and_after(api_as, alice, workload_slos):
    response = api_as(alice).patch(
        "/api/slos/checkout-availability/", {"objective": 0.995}, format="json"
    )
    assert response.status_code == 200 and response.json()["objective"] == 0.995
    event = AuditEvent.objects.filter(action="slo.slo.updated").latest("seq")
    assert event.payload["changes"] == {"objective": [0.999, 0.995]}


def test_a_platform_admin_deletes_an_slo_and_it_is_audited(api_as, platform_admin, workload_slos):
    assert api_as(platform_admin).delete("/api/slos/ghost-availability/").status_code == 204
    assert not SLO.objects.filter(name="ghost-availability").exists()
    assert AuditEvent.objects.filter(action="slo.slo.deleted", object_id__isnull=False).exists()


def test_members_cannot_delete(api_as, bob, workload_slos):
    assert api_as(bob).delete("/api/slos/ghost-availability/").status_code == 403


def test_snapshots_and_alert_events_are_served_newest_first(api_as, bob, workload_slos):
    from datetime import UTC, datetime

    slo = SLO.objects.get(name="checkout-availability")
    for hour in (1, 2):
        Snapshot.objects.create(
            slo=slo, at=datetime(2026, 1, 1, hour, tzinfo=UTC), data_status="ok", sli=0.9991
        )
    body = api_as(bob).get("/api/slos/checkout-availability/snapshots/").json()
    assert [s["at"] for s in body["results"]] == ["2026-01-01T02:00:00Z", "2026-01-01T01:00:00Z"]
    since = api_as(bob).get("/api/slos/checkout-availability/snapshots/?since=2026-01-01T01:30:00Z")
    assert len(since.json()["results"]) == 1
    events = api_as(bob).get("/api/slos/checkout-availability/alert-events/").json()
    assert events["count"] == 0 and events["results"] == []


def test_the_slo_api_is_in_the_openapi_schema(api_as, bob):
    schema = api_as(bob).get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert "/api/slos/" in schema["paths"]
    assert "/api/slos/{key}/snapshots/" in schema["paths"]
    assert "/api/slos/{key}/alert-events/" in schema["paths"]
