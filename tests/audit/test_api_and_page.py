"""The audit page and API: filters, and only what the caller may see."""

import pytest
from django.utils import timezone

from audit.services import audit_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def events(alice, bob, team, other_team, charlie):
    return {
        "pay": audit_record(
            action="request.submitted",
            actor=bob,
            team=team,
            object_type="catalog.request",
            object_id="r1",
        ),
        "pay2": audit_record(
            action="request.approved",
            actor=alice,
            team=team,
            object_type="catalog.request",
            object_id="r1",
        ),
        "search": audit_record(
            action="request.submitted",
            actor=charlie,
            team=other_team,
            object_type="catalog.request",
            object_id="r2",
        ),
    }


def actions(response):
    return sorted(item["action"] + ":" + item["object_id"] for item in response.json()["results"])


def test_members_see_their_teams_events(api_as, bob, events):
    assert actions(api_as(bob).get("/api/audit/events/")) == [
        "request.approved:r1",
        "request.submitted:r1",
    ]


def test_executives_see_every_team(api_as, executive, events):
    assert len(api_as(executive).get("/api/audit/events/").json()["results"]) == 3


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("actor=alice", ["request.approved:r1"]),
        ("action=request.submitted", ["request.submitted:r1", "request.submitted:r2"]),
        (
            "action=request.",
            ["request.approved:r1", "request.submitted:r1", "request.submitted:r2"],
        ),
        ("team=search", ["request.submitted:r2"]),
        ("object_type=catalog.request&object_id=r2", ["request.submitted:r2"]),
    ],
)
def test_the_api_filters(api_as, executive, events, query, expected):
    assert actions(api_as(executive).get(f"/api/audit/events/?{query}")) == expected


def test_time_and_request_id_filters(api_as, executive, events):
    api = api_as(executive)
    later = (timezone.now() + timezone.timedelta(minutes=1)).isoformat()
    assert actions(api.get("/api/audit/events/", {"since": later})) == []
    assert len(api.get("/api/audit/events/", {"until": later}).json()["results"]) == 3
    assert actions(api.get("/api/audit/events/", {"request_id": "nope"})) == []


def test_a_bad_filter_value_is_a_clear_400(api_as, executive, events):
    response = api_as(executive).get("/api/audit/events/", {"since": "yesterday"})
    assert response.status_code == 400 and "since" in response.json()


def test_the_audit_page_lists_and_pages(client, executive, team):
    for i in range(60):
        audit_record(action="bulk.thing", team=team, object_type="x", object_id=str(i))
    client.force_login(executive)
    first = client.get("/audit/", {"action": "bulk.thing"})
    html = first.content.decode()
    assert first.status_code == 200 and html.count("<code>bulk.thing</code>") == 50
    older = client.get("/audit/", {"action": "bulk.thing", "before": first.context["next_before"]})
    assert older.content.decode().count("<code>bulk.thing</code>") == 10


def test_the_page_says_what_to_do_when_nothing_matches(client, bob, events):
    client.force_login(bob)
    html = client.get("/audit/", {"actor": "nobody"}).content.decode()
    assert "No audit events match these filters" in html


def test_the_api_is_read_only(api_as, platform_admin, events):
    api = api_as(platform_admin)
    uuid = events["pay"].content["uuid"]
    assert api.post("/api/audit/events/", {}).status_code == 405
    assert api.delete(f"/api/audit/events/{uuid}/").status_code == 405
    assert api.get(f"/api/audit/events/{uuid}/").json()["action"] == "request.submitted"
