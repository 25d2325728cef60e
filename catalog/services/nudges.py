"""Approvals that do not stall (beat, every minute).

A request waiting for approval has a due time (its template's approval timeout after it was
filed) and, since it must not expire unnoticed, expires only as long again after it:

    filed ──── T/2 ──── due (T) ──── due + T/2 ──── due + T
              reminder   overdue:     escalated to   expires
              to the     escalated    the platform
              approvers  to the       admins
                         team admins

Each reminder and escalation is sent once (a row per request and kind), audited in the same
transaction and shown on the request's timeline; e-mails and webhooks go out on commit. From
the first escalation until the request is decided, cancelled or expired, the team has a ticket
in Alertmanager (`ApprovalOverdue`, with the request).
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from audit.services import audit_record
from catalog.choices import NudgeKind, RequestState
from catalog.models import ApprovalNudge, Request
from catalog.services import notifications
from slo.choices import Severity
from slo.services import platform_alert_raise, platform_alert_resolve, platform_alerts_firing

OVERDUE_ALERT = "ApprovalOverdue"
SERVICE = "ssops-catalog"
EVENT_OF = {
    NudgeKind.REMINDER: notifications.REMINDER_EVENT,
    NudgeKind.ESCALATED_TEAM: notifications.ESCALATED_TEAM_EVENT,
    NudgeKind.ESCALATED_PLATFORM: notifications.ESCALATED_PLATFORM_EVENT,
}


def approval_expiry(*, filed: dt.datetime, due: dt.datetime) -> dt.datetime:
    """When an undecided request expires: as long after its due time as it had before it."""
    return due + (due - filed)


def nudge_times(request: Request) -> dict[str, dt.datetime]:
    """When each reminder and escalation of a waiting request is due."""
    due = request.approval_due_at
    expires = request.approval_expires_at or due
    return {
        NudgeKind.REMINDER: request.created_at + (due - request.created_at) / 2,
        NudgeKind.ESCALATED_TEAM: due,
        NudgeKind.ESCALATED_PLATFORM: due + (expires - due) / 2,
    }


def overdue_key(request: Request) -> str:
    return f"approval-overdue:{request.uuid}"


def _overdue_alert(request: Request, at: dt.datetime) -> None:
    name = f"{request.template_version.template.slug} {request.template_version.version}"
    platform_alert_raise(
        key=overdue_key(request),
        alertname=OVERDUE_ALERT,
        severity=Severity.TICKET,
        team=request.team.slug,
        service=SERVICE,
        labels={"request": str(request.uuid)},
        summary=f"Approval of {name} for {request.team.slug} is overdue",
        description=(
            f"Filed by {request.requester.get_username()} ({request.risk_tier} risk), due "
            f"{request.approval_due_at:%Y-%m-%d %H:%M} UTC; it expires undecided at "
            f"{(request.approval_expires_at or request.approval_due_at):%Y-%m-%d %H:%M} UTC."
        ),
        url=reverse("catalog:request-detail", args=[request.uuid]),
        at=at,
    )


def _send(request: Request, kind: str, now: dt.datetime) -> ApprovalNudge | None:
    """Send one reminder or escalation, once; None when it was sent already or the request no
    longer waits."""
    event = EVENT_OF[kind]
    with transaction.atomic():
        locked = (
            Request.objects.select_for_update(of=("self",))
            .select_related("team", "requester", "template_version__template")
            .get(pk=request.pk)
        )
        sent = locked.nudges.filter(kind=kind).exists()
        if sent or locked.state != RequestState.PENDING_APPROVAL:
            return None
        recipients = sorted(
            notifications.nudge_recipients(locked, event).values_list("username", flat=True)
        )
        event_record = audit_record(
            action="request.approval_reminded"
            if kind == NudgeKind.REMINDER
            else "request.approval_escalated",
            obj=locked,
            team=locked.team_id,
            payload={
                "kind": kind,
                "recipients": recipients,
                "due": locked.approval_due_at,
                "expires": locked.approval_expires_at or locked.approval_due_at,
            },
        )
        try:
            with transaction.atomic():
                nudge = ApprovalNudge.objects.create(
                    request=locked,
                    kind=kind,
                    recipients=recipients,
                    sent_at=now,
                    audit_seq=event_record.seq,
                )
        except IntegrityError:  # sent by a concurrent run meanwhile
            transaction.set_rollback(True)
            return None
        if kind == NudgeKind.ESCALATED_TEAM:
            _overdue_alert(locked, now)
        notifications.request_notify(request=locked, event=event)
    return nudge


def approvals_nudge(*, now: dt.datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Send the reminders and escalations that are due, and resolve the overdue tickets of
    requests that no longer wait. Idempotent."""
    now = now or timezone.now()
    counts = dict.fromkeys(NudgeKind.values, 0) | {"resolved": 0}
    waiting = (
        Request.objects.filter(state=RequestState.PENDING_APPROVAL, approval_due_at__isnull=False)
        .select_related("team", "requester", "template_version__template")
        .prefetch_related("nudges")
        .order_by("approval_due_at")[:limit]
    )
    for request in waiting:
        sent = {nudge.kind for nudge in request.nudges.all()}
        for kind, at in nudge_times(request).items():
            if kind not in sent and at <= now and _send(request, kind, now) is not None:
                counts[kind] += 1
    for alert in platform_alerts_firing(alertname=OVERDUE_ALERT):
        request = Request.objects.filter(uuid=alert.labels.get("request")).first()
        if request is None or request.state != RequestState.PENDING_APPROVAL:
            state = request.get_state_display().lower() if request else "gone"
            counts["resolved"] += platform_alert_resolve(
                key=alert.key, reason=f"the request is {state}", at=now
            )
    return counts
