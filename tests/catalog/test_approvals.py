"""Approvals by risk tier, separation of duties, rejection, cancellation, expiry and
break-glass."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from audit.models import AuditEvent
from catalog.models import Request
from catalog.services import (
    RequestInvalid,
    TransitionNotAllowed,
    request_approve,
    request_break_glass,
    request_cancel,
    request_reject,
    requests_expire_due,
)
from ssops_site.celery import app

pytestmark = pytest.mark.django_db


def test_nobody_approves_their_own_request_not_even_an_approver(submit, gadget, carol):
    own = submit("gadget", actor=carol)
    with pytest.raises(PermissionDenied, match="Nobody can approve or reject their own request"):
        request_approve(request=own, actor=carol)
    with pytest.raises(PermissionDenied):
        request_reject(request=own, actor=carol, comment="no")
    own.refresh_from_db()
    assert own.state == "pending_approval" and not own.approvals.exists()


def test_nor_a_platform_admin_through_the_api(api_as, submit, gadget, platform_admin, team):
    from catalog.services import membership_set

    membership_set(actor=None, team=team, user=platform_admin)
    own = submit("gadget", actor=platform_admin)
    response = api_as(platform_admin).post(f"/api/requests/{own.uuid}/approve/")
    assert response.status_code == 403
    assert "own request" in response.json()["detail"]
    assert api_as(platform_admin).get("/api/approvals/").json()["count"] == 0


def test_one_team_approver_approves_a_medium_risk_request(api_as, submit, gadget, carol):
    request = submit("gadget")
    assert [r["uuid"] for r in api_as(carol).get("/api/approvals/").json()["results"]] == [
        str(request.uuid)
    ]
    response = api_as(carol).post(
        f"/api/requests/{request.uuid}/approve/", {"comment": "ok"}, format="json"
    )
    assert response.status_code == 200 and response.json()["state"] == "provisioning"
    assert AuditEvent.objects.filter(
        action="request.approval_approved", actor_name="carol"
    ).exists()


def test_a_high_risk_request_needs_two_distinct_approvers(submit, vault, carol, alice):
    request = submit("vault")
    request = request_approve(request=request, actor=carol)
    assert request.state == "pending_approval"
    with pytest.raises(TransitionNotAllowed, match="another approver must be someone else"):
        request_approve(request=request, actor=carol)
    request = request_approve(request=request, actor=alice)  # a team admin approves too
    assert request.state == "provisioning"
    assert sorted(request.approvals.values_list("approver__username", flat=True)) == [
        "alice",
        "carol",
    ]


def test_members_and_outsiders_cannot_decide(api_as, submit, gadget, bob, charlie, team):
    from tests.factories import MembershipFactory, UserFactory

    member = MembershipFactory(team=team, user=UserFactory(username="dave")).user
    request = submit("gadget")
    with pytest.raises(PermissionDenied, match="Only the team's approvers"):
        request_approve(request=request, actor=member)
    assert api_as(charlie).post(f"/api/requests/{request.uuid}/approve/").status_code == 404
    assert api_as(member).get("/api/approvals/").json()["count"] == 0


def test_a_platform_admin_approves_any_team(submit, gadget, platform_admin):
    request = request_approve(request=submit("gadget"), actor=platform_admin)
    assert request.state == "provisioning"
    assert request.approvals.get().as_platform_admin is True


def test_a_rejection_needs_a_reason_and_gives_the_quota_back(api_as, submit, gadget, carol):
    request = submit("gadget")
    refused = api_as(carol).post(f"/api/requests/{request.uuid}/reject/", {}, format="json")
    assert refused.status_code == 400 and refused.json() == {
        "comment": ["Say why the request is rejected."]
    }
    done = api_as(carol).post(
        f"/api/requests/{request.uuid}/reject/", {"comment": "too big"}, format="json"
    )
    assert done.json()["state"] == "rejected"
    request.reservation.refresh_from_db()
    assert (request.reservation.state, request.reservation.release_reason) == (
        "released",
        "rejected",
    )


def test_deciding_twice_on_a_decided_request_is_a_conflict(api_as, submit, gadget, carol, alice):
    request = submit("gadget")
    api_as(carol).post(f"/api/requests/{request.uuid}/approve/")
    again = api_as(alice).post(f"/api/requests/{request.uuid}/approve/")
    assert again.status_code == 409 and "provisioning" in again.json()["detail"]


def test_the_requester_or_a_team_admin_cancels(submit, gadget, bob, carol, alice):
    request = submit("gadget")
    with pytest.raises(PermissionDenied):
        request_cancel(request=request, actor=carol)
    assert request_cancel(request=request, actor=bob).state == "cancelled"
    assert request_cancel(request=submit("gadget"), actor=alice).state == "cancelled"


def test_an_undecided_request_expires_as_long_after_its_due_time_as_it_had_before(submit, gadget):
    request = submit("gadget")
    assert requests_expire_due() == {"approval_overdue": 0, "ttl_reached": 0}
    due, expires = request.approval_due_at, request.approval_expires_at
    assert due - timezone.now() == pytest.approx(
        dt.timedelta(hours=24), abs=dt.timedelta(minutes=1)
    )
    assert expires - due == dt.timedelta(hours=24)
    # Overdue, it is escalated (test_approval_nudges.py) rather than dropped.
    assert requests_expire_due(now=due + dt.timedelta(seconds=1))["approval_overdue"] == 0
    assert requests_expire_due(now=expires)["approval_overdue"] == 1
    request.refresh_from_db()
    assert request.state == "expired" and request.reservation.state == "released"
    assert request.transitions.last().reason == (
        "no decision before the approval expired (overdue since its due time)"
    )


def test_the_expiry_job_is_in_the_beat_schedule_with_an_expiry():
    entry = app.conf.beat_schedule["catalog-expire-requests"]
    assert entry["task"] == "catalog.tasks.expire_requests"
    assert 0 < entry["options"]["expires"] <= 60
    from catalog import tasks

    assert tasks.expire_requests.name == entry["task"]


def test_break_glass_needs_a_platform_admin_and_a_reason(submit, vault, carol, platform_admin):
    request = submit("vault")
    with pytest.raises(PermissionDenied):
        request_break_glass(request=request, actor=carol, reason="prod is down, need it now")
    with pytest.raises(RequestInvalid) as invalid:
        request_break_glass(request=request, actor=platform_admin, reason="now", hours=48)
    assert set(invalid.value.errors) == {"reason", "hours"}
    assert Request.objects.get(pk=request.pk).state == "pending_approval"


def test_break_glass_approves_at_once_time_limited_and_flagged_everywhere(
    api_as,
    client,
    submit,
    vault,
    platform_admin,
    bob,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    request = submit("vault", ttl_hours=100)
    with django_capture_on_commit_callbacks(execute=True):
        request = request_break_glass(
            request=request,
            actor=platform_admin,
            reason="payments outage INC-9, need the grant",
            hours=2,
        )
    assert request.state == "provisioning" and request.break_glass
    limit = timezone.now() + dt.timedelta(hours=2)
    assert request.expires_at <= limit and request.break_glass_until <= limit
    detail = api_as(bob).get(f"/api/requests/{request.uuid}/").json()
    assert detail["break_glass"] is True
    assert detail["break_glass_detail"]["by"] == "padmin"
    assert "outage" in detail["break_glass_detail"]["reason"]
    listed = api_as(bob).get("/api/requests/?break_glass=true").json()["results"]
    assert [r["uuid"] for r in listed] == [str(request.uuid)]
    client.force_login(bob)
    for page in (f"/requests/{request.uuid}/", "/requests/"):
        assert "BREAK-GLASS" in client.get(page).content.decode()
    event = AuditEvent.objects.get(action="request.approved")
    assert event.payload["break_glass"] is True and event.payload["reason"].startswith(
        "BREAK-GLASS"
    )
    assert any(m.subject.startswith("[SSOps] [BREAK-GLASS]") for m in mailoutbox)


def test_break_glass_is_not_for_ones_own_request(submit, vault, platform_admin, team):
    from catalog.services import membership_set

    membership_set(actor=None, team=team, user=platform_admin)
    own = submit("vault", actor=platform_admin)
    with pytest.raises(PermissionDenied):
        request_break_glass(request=own, actor=platform_admin, reason="it is an emergency!")
