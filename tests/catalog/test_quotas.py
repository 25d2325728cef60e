"""Quotas per team and kind, monthly budgets, reservations held and given back."""

from decimal import Decimal

import pytest

from audit.models import AuditEvent
from catalog.models import Quota, Reservation
from catalog.services import (
    budget_set,
    quota_set,
    request_cancel,
    request_mark_deleted,
    request_mark_failed,
    request_mark_ready,
)
from tests.catalog.conftest import assert_counters_match_reservations

pytestmark = pytest.mark.django_db


def active():
    return Reservation.objects.filter(state="active").count()


def test_a_count_quota_denies_the_request_that_would_exceed_it(submit, widget, team):
    quota_set(actor=None, team=team, kind="widget", max_count=2)
    assert [submit().state for _ in range(2)] == ["provisioning", "provisioning"]
    third = submit()
    assert third.state == "denied"
    assert third.deny_reasons == [
        "quota exceeded for widget in team payments: count would be 3 of 2"
    ]
    assert active() == 2 and not Reservation.objects.filter(request=third).exists()
    assert_counters_match_reservations()


def test_cpu_memory_and_storage_are_limited_too(submit, widget, team):
    quota_set(actor=None, team=team, kind="widget", max_cpu_millicores=1000)
    assert submit(parameters={"name": "a", "cpu": 800}).state == "provisioning"
    denied = submit(parameters={"name": "b", "cpu": 300})
    assert denied.deny_reasons == [
        "quota exceeded for widget in team payments: cpu millicores would be 1100m CPU of 1000m CPU"
    ]


def test_quotas_are_per_team(submit, widget, team, other_team, charlie):
    quota_set(actor=None, team=team, kind="widget", max_count=0)
    assert submit().state == "denied"
    assert submit(actor=charlie, team_=other_team).state == "provisioning"


def test_the_monthly_budget_is_reserved_and_enforced(submit, widget, team):
    budget_set(actor=None, team=team, monthly_limit=Decimal("5.00"))
    assert submit(ttl_hours=24).reservation.cost == Decimal("2.40")
    assert submit(ttl_hours=24).state == "provisioning"
    denied = submit(ttl_hours=24)
    assert denied.state == "denied"
    assert denied.deny_reasons[0].startswith("monthly budget exceeded for team payments: 7.20 of")


@pytest.mark.parametrize("ending", ["cancel", "fail", "delete"])
def test_reservations_come_back_when_the_request_ends(submit, gadget, widget, team, bob, ending):
    quota_set(actor=None, team=team, kind="widget", max_count=1)
    if ending == "cancel":
        request = submit("gadget")
        request_cancel(request=request, actor=bob)
    elif ending == "fail":
        request_mark_failed(request=submit(), error="step failed")
    else:
        request = request_mark_ready(request=submit(), outputs={})
        request_mark_deleted(request=request)
    assert active() == 0
    assert submit().state == "provisioning"
    assert_counters_match_reservations()


def test_setting_quotas_and_budgets_is_audited_and_idempotent(team, platform_admin):
    quota_set(actor=platform_admin, team=team, kind="postgres", max_count=5, max_storage_gib=100)
    quota_set(actor=platform_admin, team=team, kind="postgres", max_count=5, max_storage_gib=100)
    quota_set(actor=platform_admin, team=team, kind="postgres", max_count=6)
    budget_set(actor=platform_admin, team=team, monthly_limit=Decimal("100"))
    budget_set(actor=platform_admin, team=team, monthly_limit=Decimal("100.00"))
    events = AuditEvent.objects.filter(action__in=["quota.set", "budget.set"]).order_by("seq")
    assert [e.action for e in events] == ["quota.set", "quota.set", "budget.set"]
    assert events[1].payload["limits"]["max_count"] == 6
    assert events[1].payload["previous"]["max_count"] == 5
    assert Quota.objects.get(team=team, kind="postgres").max_storage_gib == 100


def test_usage_by_api_for_members_and_changes_by_platform_admins(
    api_as, submit, widget, team, bob, charlie, platform_admin
):
    quota_set(actor=None, team=team, kind="widget", max_count=4, max_cpu_millicores=2000)
    budget_set(actor=None, team=team, monthly_limit=Decimal("10"))
    submit()
    usage = api_as(bob).get("/api/teams/payments/usage/").json()
    widget_usage = {d["name"]: d for d in usage["kinds"][0]["dimensions"]}
    assert widget_usage["count"] == {"name": "count", "used": 1, "limit": 4, "percent": 25}
    assert widget_usage["cpu_millicores"]["used"] == 500
    assert usage["budget"] == {"limit": "10.00", "currency": "EUR", "spent": "2.40", "percent": 24}
    assert api_as(charlie).get("/api/teams/payments/usage/").status_code == 404
    assert (
        api_as(bob)
        .put("/api/teams/payments/quotas/widget/", {"max_count": 9}, format="json")
        .status_code
        == 403
    )
    admin = api_as(platform_admin)
    changed = admin.put("/api/teams/payments/quotas/widget/", {"max_count": 9}, format="json")
    assert changed.status_code == 200 and changed.json()["max_count"] == 9
    budget = admin.put(
        "/api/teams/payments/budget/", {"monthly_limit": "50.00", "currency": "EUR"}, format="json"
    )
    assert budget.json()["monthly_limit"] == "50.00"
    quotas = admin.get("/api/teams/payments/quotas/").json()
    assert quotas["count"] == 1 and [q["kind"] for q in quotas["results"]] == ["widget"]


def test_the_usage_page_shows_quotas_and_budget(client, submit, widget, team, bob, charlie):
    quota_set(actor=None, team=team, kind="widget", max_count=4)
    budget_set(actor=None, team=team, monthly_limit=Decimal("10"))
    submit()
    client.force_login(bob)
    page = client.get("/teams/payments/").content.decode()
    assert (
        "<meter" in page and "2.40 of 10.00 EUR reserved" in page and "<code>widget</code>" in page
    )
    assert "Payments" in client.get("/teams/").content.decode()
    client.force_login(charlie)
    assert client.get("/teams/payments/").status_code == 404
