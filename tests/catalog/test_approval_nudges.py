"""Approvals that do not stall: a reminder to the approvers at half the time to the due time, an
escalation to the team's admins once overdue (with a ticket in the real Alertmanager), then to
the platform admins, each once, audited and on the request's timeline; the inbox sorts by due
time."""

import datetime as dt
import json

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from catalog.models import ApprovalNudge, Request
from catalog.selectors import request_timeline
from catalog.services import approvals_nudge, request_approve, requests_expire_due
from slo.models import PlatformAlert

pytestmark = pytest.mark.django_db


@pytest.fixture
def waiting(submit, gadget, alice, carol, bob, platform_admin, on_commit):
    """A medium-risk request bob filed for payments (24 h to its due time), its approvers carol
    and alice (team admin) and a platform admin, all with e-mail addresses."""
    with on_commit():
        request = submit("gadget")
    return request


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def hours(request: Request, n: float) -> dt.datetime:
    return request.created_at + dt.timedelta(hours=n)


def nudge(request, at, on_commit) -> dict:
    with on_commit():
        return approvals_nudge(now=at)


def events(action: str, request: Request) -> list[dict]:
    found = AuditEvent.objects.filter(action=action, object_id=str(request.uuid))
    return [json.loads(e.body)["payload"] for e in found]


def test_the_approvers_are_reminded_once_at_half_the_time(waiting, mailoutbox, on_commit):
    mailoutbox.clear()
    assert nudge(waiting, hours(waiting, 11.99), on_commit)["reminder"] == 0
    assert nudge(waiting, hours(waiting, 12.01), on_commit)["reminder"] == 1
    assert sorted(m.to[0] for m in mailoutbox) == ["alice@example.test", "carol@example.test"]
    assert mailoutbox[0].subject == "[SSOps] Reminder: approval of gadget 1.0.0 for payments waits"
    assert "Decide before" in mailoutbox[0].body and "expires at" in mailoutbox[0].body

    assert nudge(waiting, hours(waiting, 13), on_commit)["reminder"] == 0  # once
    assert len(mailoutbox) == 2
    (payload,) = events("request.approval_reminded", waiting)
    assert payload["recipients"] == ["alice", "carol"]  # never bob, who filed it
    entry = [e for e in request_timeline(request=waiting) if e.kind == "nudge"]
    assert [(e.state, e.text) for e in entry] == [
        ("Reminder to the approvers", "told alice, carol")
    ]
    assert entry[0].audit_seq == AuditEvent.objects.get(action="request.approval_reminded").seq


def test_an_approver_who_decided_is_not_reminded(
    submit, vault, alice, carol, platform_admin, mailoutbox, on_commit
):
    with on_commit():
        request = submit("vault")  # two approvers needed
        request_approve(request=request, actor=carol)
    request.refresh_from_db()
    nudge(request, hours(request, 4.01), on_commit)
    assert ApprovalNudge.objects.get(request=request).recipients == ["alice"]


def filed_ago(request: Request, hours_ago: float) -> Request:
    """Move a 24-hour approval back in time: filed `hours_ago`, due 24 h after that, expiring
    24 h after its due time (the alerts carry real times, as Alertmanager checks them)."""
    filed = timezone.now() - dt.timedelta(hours=hours_ago)
    due = filed + dt.timedelta(hours=24)
    Request.objects.filter(pk=request.pk).update(
        created_at=filed, approval_due_at=due, approval_expires_at=due + dt.timedelta(hours=24)
    )
    return Request.objects.get(pk=request.pk)


def test_overdue_it_is_escalated_to_the_team_admins_with_a_ticket_then_to_the_platform(
    waiting, mailoutbox, on_commit, settings, alertmanager, platform_admin
):
    settings.ALERTMANAGER_URL = alertmanager.url
    waiting = filed_ago(waiting, 24.1)
    counts = nudge(waiting, None, on_commit)
    assert counts["reminder"] == 1 and counts["escalated_team"] == 1
    escalation = ApprovalNudge.objects.get(request=waiting, kind="escalated_team")
    assert escalation.recipients == ["alice"]  # the team admin, not the approver carol
    assert any(
        m.subject.startswith("[SSOps] Overdue approval") and m.to == ["alice@example.test"]
        for m in mailoutbox
    )
    held = alertmanager.active_alerts(alertname="ApprovalOverdue", request=str(waiting.uuid))
    assert len(held) == 1
    assert held[0]["labels"] == {
        "alertname": "ApprovalOverdue",
        "team": "payments",
        "service": "ssops-catalog",
        "severity": "ticket",
        "request": str(waiting.uuid),
    }
    assert held[0]["annotations"]["dashboard_url"].endswith(f"/requests/{waiting.uuid}/")

    # Half-way to its expiry, the platform admins hear of it; the ticket stays one.
    waiting = filed_ago(waiting, 36.1)
    assert nudge(waiting, None, on_commit)["escalated_platform"] == 1
    assert ApprovalNudge.objects.get(request=waiting, kind="escalated_platform").recipients == [
        platform_admin.username
    ]
    assert len(alertmanager.active_alerts(request=str(waiting.uuid))) == 1
    assert len(events("request.approval_escalated", waiting)) == 2
    assert waiting.transitions.last().to_state == "pending_approval"  # not expired yet

    # It expires at last; the ticket is resolved.
    waiting = filed_ago(waiting, 48.1)
    assert requests_expire_due()["approval_overdue"] == 1
    assert nudge(waiting, None, on_commit)["resolved"] == 1
    alert = PlatformAlert.objects.get(labels__request=str(waiting.uuid))
    assert not alert.firing and alert.resolution == "the request is expired"
    assert alertmanager.active_alerts(request=str(waiting.uuid)) == []


def test_a_decision_resolves_the_overdue_ticket(waiting, carol, on_commit):
    nudge(waiting, waiting.approval_due_at, on_commit)
    assert PlatformAlert.objects.get(labels__request=str(waiting.uuid)).firing
    request_approve(request=waiting, actor=carol)
    assert nudge(waiting, waiting.approval_due_at, on_commit)["resolved"] == 1
    assert not PlatformAlert.objects.get(labels__request=str(waiting.uuid)).firing


def test_the_request_page_shows_the_escalation_and_the_inbox_sorts_by_due_time(
    waiting, submit, gadget, alice, client, on_commit
):
    waiting = filed_ago(waiting, 24.1)
    nudge(waiting, None, on_commit)
    sooner = submit("gadget", parameters={"name": "payments-two"})
    Request.objects.filter(pk=sooner.pk).update(
        approval_due_at=waiting.approval_due_at - dt.timedelta(hours=1)
    )
    client.force_login(alice)
    page = client.get(f"/requests/{waiting.uuid}/").content.decode()
    assert "Escalated to the team&#x27;s admins" in page and "told alice" in page
    assert "overdue" in page
    inbox = client.get("/approvals/").content.decode()
    assert inbox.index(f"/requests/{sooner.uuid}/") < inbox.index(f"/requests/{waiting.uuid}/")
    assert "Escalated to the team&#x27;s admins" in inbox
