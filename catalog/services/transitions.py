"""The one function that changes a request's state, `request_transition`.

It checks the edge against `catalog.lifecycle`, saves the new state, releases the reservation
when the new state gives resources back, writes the timeline row and the audit event (with the
policy decisions, reservation and approvals attached) in the same transaction, and notifies on
commit. Every other service that moves a request calls it.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from catalog import lifecycle
from catalog.metrics import REQUEST_TRANSITIONS
from catalog.models import Request, RequestTransition, Reservation
from catalog.services import notifications
from catalog.services.quotas import reservation_release


class TransitionNotAllowed(Exception):
    """The request is not in a state where this action applies (message says why)."""


def _attachments(request: Request) -> dict:
    """The policy decisions, reservation and approvals, as the audit payload carries them."""
    decisions = [
        {
            "policy": d.policy_version.policy.slug,
            "version": d.policy_version.number,
            "mode": d.mode,
            "outcome": d.outcome,
            "enforced": d.enforced,
        }
        for d in request.decisions.select_related("policy_version__policy")
    ]
    reservation = Reservation.objects.filter(request=request).first()
    approvals = [
        {"by": a.approver.get_username(), "decision": a.decision}
        for a in request.approvals.select_related("approver")
    ]
    return {
        "decisions": decisions,
        "reservation": reservation.as_dict() if reservation else None,
        "approvals": approvals,
    }


def log_transition(
    request: Request, from_state: str, to_state: str, actor, reason: str, attachments: dict
) -> None:
    version = request.template_version
    event = audit_record(
        action=f"request.{to_state}",
        actor=actor,
        obj=request,
        team=request.team_id,
        payload={
            "from": from_state,
            "to": to_state,
            "reason": reason,
            "template": version.template.slug,
            "version": version.version,
            "requester": request.requester.get_username(),
            "risk_tier": request.risk_tier,
            "required_approvals": request.required_approvals,
            "break_glass": request.break_glass,
            **attachments,
        },
    )
    row = RequestTransition(
        request=request,
        from_state=from_state,
        to_state=to_state,
        actor=actor if actor is not None and actor.is_authenticated else None,
        reason=reason,
        audit_seq=event.seq,
    )
    row.save(force_insert=True)
    transaction.on_commit(lambda: REQUEST_TRANSITIONS.labels(to_state=to_state).inc())


def request_transition(
    *,
    request: Request,
    to_state: str,
    actor,
    reason: str = "",
    fields: dict | None = None,
    attachments: dict | None = None,
) -> Request:
    """Move a request along one edge of the state machine (the only code that does).

    Checks the edge from the state the caller saw, then saves `fields` with the new state by a
    conditional UPDATE (… WHERE state = <the state seen>): when another transaction moved the
    request first, no row changes and TransitionNotAllowed is raised, so a request never takes
    two edges from one state. Releases the quota and budget when the new state gives them
    back, writes the timeline row and the audit event (with the policy decisions, reservation
    and approvals) in the same transaction, and notifies on commit.
    """
    from_state = request.state
    try:
        lifecycle.check_transition(from_state, to_state)
    except lifecycle.TransitionError as exc:
        raise TransitionNotAllowed(str(exc)) from None
    updates = {"state": to_state, "updated_at": timezone.now(), **(fields or {})}
    # No savepoint: nothing is written unless the conditional update succeeds, and a failed
    # write must undo the caller's transaction anyway.
    with transaction.atomic(savepoint=False):
        moved = Request.objects.filter(pk=request.pk, state=from_state).update(**updates)
        if moved:
            _record(request, from_state, to_state, actor, reason, updates, attachments)
    if not moved:
        now = Request.objects.filter(pk=request.pk).values_list("state", flat=True).first()
        raise TransitionNotAllowed(f"the request is {now} now, no longer {from_state}")
    return request


def _record(request, from_state, to_state, actor, reason, updates, attachments) -> None:
    """The writes that follow a successful move (same transaction)."""
    for name, value in updates.items():
        setattr(request, name, value)
    if lifecycle.releases_reservation(from_state, to_state):
        reservation_release(request=request, reason=to_state)
    if attachments is None:
        attachments = _attachments(request)
    log_transition(request, from_state, to_state, actor, reason, attachments)
    notifications.request_notify(request=request, event=to_state, from_state=from_state)
