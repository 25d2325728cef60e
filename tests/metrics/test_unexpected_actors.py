"""Unexpected actors (F3): the watch over the audit trail flags, once each, a write by someone
with no role in the object's team, a token used after its owner left the team, an admin-site
change by someone outside platform-admin and a break-glass with no incident open — each as a
ticket alert to a real Alertmanager and a row on the on-call page. Every one is caused here
through the real pages, API and services, not written into the audit store by hand."""

import pytest
from django.contrib.auth.models import Permission

from catalog.services import request_break_glass, request_submit
from metrics.actors import unexpected_actors_scan
from metrics.models import UnexpectedActor
from metrics.services import incident_open
from metrics.tasks import unexpected_actors
from teams.models import Membership
from tests.factories import UserFactory, api_key

pytestmark = pytest.mark.django_db


def flagged(rule: str) -> list[UnexpectedActor]:
    return list(UnexpectedActor.objects.filter(rule=rule))


@pytest.fixture
def waiting(gadget, bob, team):
    """A request of bob's waiting for approval."""
    return request_submit(actor=bob, template="gadget", team=team, parameters={"name": "p-1"})


def test_nothing_is_flagged_when_everyone_acts_within_their_roles(
    waiting, carol, platform_admin, oncall, api_as
):
    assert api_as(carol).post(f"/api/requests/{waiting.uuid}/approve/", {}).status_code == 200
    incident_open(actor=oncall, title="checkout slow", team=waiting.team)
    result = unexpected_actors_scan()
    assert result["new"] == 0 and result["read_to"] > 0
    assert not UnexpectedActor.objects.exists()


def test_a_write_by_someone_with_no_role_in_the_team_is_flagged_once(waiting, bob, team, api_as):
    # bob leaves payments but, as its requester, can still cancel the request: he writes to a
    # team he has no role in any more.
    Membership.objects.filter(user=bob, team=team).delete()
    assert api_as(bob).post(f"/api/requests/{waiting.uuid}/cancel/", {}).status_code == 200
    # His submission, made while he was a member, is not flagged: roles count at the event's time.
    assert unexpected_actors_scan()["new"] == 1
    (found,) = flagged("no_role")
    assert (found.actor, found.team, found.action) == ("bob", team, "request.cancelled")
    assert found.object_id == str(waiting.uuid) and "with no role in the team" in found.detail
    assert unexpected_actors_scan()["new"] == 0  # read once, flagged once


def test_a_token_used_after_its_owner_left_the_team_is_flagged_once(client, bob, team):
    key = api_key(bob, scopes=["read"])
    assert client.get("/api/me/", headers={"Authorization": f"Token {key}"}).status_code == 200
    assert unexpected_actors_scan()["new"] == 0  # used while bob was in the team
    Membership.objects.filter(user=bob, team=team).delete()
    assert unexpected_actors_scan()["new"] == 0  # not used since
    for _ in range(3):
        client.get("/api/me/", headers={"Authorization": f"Token {key}"})
    assert unexpected_actors_scan()["new"] == 1
    (found,) = flagged("token_after_leaving")
    assert found.actor == "bob" and found.team == team
    assert "after its owner left team payments" in found.detail
    assert unexpected_actors_scan()["new"] == 0


def test_an_admin_site_change_outside_platform_admin_is_flagged_once(client, platform_admin):
    staff = UserFactory(username="helpdesk", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="add_group"))
    client.force_login(staff)
    assert client.post("/admin/auth/group/add/", {"name": "made-by-helpdesk"}).status_code == 302
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(superuser)
    assert client.post("/admin/auth/group/add/", {"name": "made-by-root"}).status_code == 302
    assert unexpected_actors_scan()["new"] == 1
    (found,) = flagged("admin_outside_platform")
    assert (found.actor, found.action, found.object_type) == (
        "helpdesk",
        "admin.added",
        "auth.group",
    )
    assert unexpected_actors_scan()["new"] == 0


def test_a_break_glass_with_no_incident_open_is_flagged_once(
    gadget, bob, team, platform_admin, oncall
):
    first = request_submit(actor=bob, template="gadget", team=team, parameters={"name": "p-1"})
    request_break_glass(request=first, actor=platform_admin, reason="checkout down, no ticket")
    incident_open(actor=oncall, title="checkout down", team=team)
    second = request_submit(actor=bob, template="gadget", team=team, parameters={"name": "p-2"})
    request_break_glass(request=second, actor=platform_admin, reason="checkout down, declared")
    assert unexpected_actors_scan()["new"] == 1
    (found,) = flagged("break_glass_no_incident")
    assert found.object_id == str(first.uuid) and found.actor == "padmin"
    assert unexpected_actors_scan()["new"] == 0


def test_each_kind_reaches_alertmanager_and_the_oncall_page(
    waiting,
    gadget,
    bob,
    team,
    client,
    platform_admin,
    oncall,
    charlie,
    api_as,
    settings,
    alertmanager,
):
    settings.ALERTMANAGER_URL = alertmanager.url
    key = api_key(bob, scopes=["read"])
    staff = UserFactory(username="helpdesk", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="add_group"))
    client.force_login(staff)
    client.post("/admin/auth/group/add/", {"name": "made-by-helpdesk"})
    request_break_glass(request=waiting, actor=platform_admin, reason="checkout down, no ticket")
    other = request_submit(actor=bob, template="gadget", team=team, parameters={"name": "p-2"})
    Membership.objects.filter(user=bob, team=team).delete()
    client.get("/api/me/", headers={"Authorization": f"Token {key}"})
    assert api_as(bob).post(f"/api/requests/{other.uuid}/cancel/", {}).status_code == 200
    result = unexpected_actors()  # the beat job
    assert (result["new"], result["alerted"]) == (4, 4)
    rules = sorted(UnexpectedActor.objects.values_list("rule", flat=True))
    assert rules == [
        "admin_outside_platform",
        "break_glass_no_incident",
        "no_role",
        "token_after_leaving",
    ]
    for rule in rules:
        (alert,) = alertmanager.active_alerts(alertname="UnexpectedActor", rule=rule)
        assert alert["labels"]["severity"] == "ticket"
    assert unexpected_actors()["alerted"] == 0  # each alert is sent once
    client.force_login(oncall)
    page = client.get("/dashboards/oncall/").content.decode()
    assert "Token used after its owner left a team" in page and "helpdesk" in page
    csv = client.get("/dashboards/oncall/?format=csv&table=unexpected-actors").content.decode()
    assert len(csv.strip().splitlines()) == 5
    assert api_as(oncall).get("/api/unexpected-actors/").json()["count"] == 4
    # A member of another team sees none of payments' (and none that name no team).
    assert api_as(charlie).get("/api/unexpected-actors/").json()["count"] == 0
