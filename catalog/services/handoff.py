"""The seam between the catalog and the provisioning engine, and expiry (beat).

`request_start_provisioning` is the single hand-off: an approved request moves to
`provisioning` and the `request_handed_off` signal goes out in the same transaction; the
provisioning app (above the catalog) receives it and starts the run when the transaction
commits, then reports back through the `request_mark_*` functions. Expired requests go out the
same way with `request_teardown_due`.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from catalog import signals
from catalog.choices import RequestState
from catalog.models import Request
from catalog.services.transitions import TransitionNotAllowed, request_transition


def request_start_provisioning(
    *, request: Request, actor, attachments: dict | None = None
) -> Request:
    """THE HAND-OFF TO PROVISIONING. An approved request moves to `provisioning` (its TTL
    starts now, capped by a break-glass limit) and `request_handed_off` is sent; the engine
    starts the run when the transaction commits, reports back through `request_mark_ready`,
    `request_mark_failed`, `request_mark_rolled_back` and `request_mark_deleted` below, and
    runs the steps declared in `catalog.actions`. With no receiver (no provisioning app), the
    request stays in `provisioning`: nothing pretends it is ready.
    """
    expires = timezone.now() + dt.timedelta(hours=request.ttl_hours)
    if request.break_glass_until is not None:
        expires = min(expires, request.break_glass_until)
    request_transition(
        request=request,
        to_state=RequestState.PROVISIONING,
        actor=actor,
        reason="handed to the provisioner",
        fields={"expires_at": expires},
        attachments=attachments,
    )
    signals.request_handed_off.send(sender=Request, request=request)
    return request


def request_mark_ready(*, request: Request, outputs: dict, actor=None) -> Request:
    """Called by the provisioning engine when every step succeeded."""
    return request_transition(
        request=request,
        to_state=RequestState.READY,
        actor=actor,
        reason="provisioned",
        fields={"outputs": outputs},
    )


def request_mark_failed(*, request: Request, error: str, actor=None) -> Request:
    """Called by the provisioning engine when a step failed (before compensation)."""
    return request_transition(
        request=request, to_state=RequestState.FAILED, actor=actor, reason=error
    )


def request_mark_rolled_back(*, request: Request, actor=None) -> Request:
    return request_transition(
        request=request, to_state=RequestState.ROLLED_BACK, actor=actor, reason="compensated"
    )


def request_mark_deleted(
    *, request: Request, actor=None, reason: str = "resources deleted"
) -> Request:
    return request_transition(
        request=request, to_state=RequestState.DELETED, actor=actor, reason=reason
    )


# --- expiry (beat) ----------------------------------------------------------------------------


def requests_expire_due(*, now: dt.datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Expire requests left undecided past their approval's expiry (reminded and escalated
    before: catalog.services.nudges), and ready requests whose TTL has passed
    (their resources are then deleted by the provisioning engine). Each in its own transaction;
    a request that moved meanwhile is skipped."""
    now = now or timezone.now()
    counts = {"approval_overdue": 0, "ttl_reached": 0}
    batches = [
        (
            "approval_overdue",
            Request.objects.filter(state=RequestState.PENDING_APPROVAL).filter(
                Q(approval_expires_at__lte=now)
                | Q(approval_expires_at__isnull=True, approval_due_at__lte=now)
            ),
            "no decision before the approval expired (overdue since its due time)",
        ),
        (
            "ttl_reached",
            Request.objects.filter(state=RequestState.READY, expires_at__lte=now),
            "time to live reached",
        ),
    ]
    for label, queryset, reason in batches:
        for request in queryset.select_related("team", "requester", "template_version__template")[
            :limit
        ]:
            try:
                with transaction.atomic():
                    request_transition(
                        request=request, to_state=RequestState.EXPIRED, actor=None, reason=reason
                    )
                    if label == "ttl_reached":
                        signals.request_teardown_due.send(sender=Request, request=request)
            except TransitionNotAllowed:
                continue
            counts[label] += 1
    return counts
