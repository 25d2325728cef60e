"""Approvals by risk tier (medium: one approver, high: two distinct ones, never the
requester), rejection, cancellation and break-glass."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from catalog.choices import ApprovalDecision, ChangeKind, RequestState
from catalog.models import Approval, Request
from catalog.services import notifications
from catalog.services.handoff import request_start_provisioning
from catalog.services.requests import RequestInvalid
from catalog.services.transitions import TransitionNotAllowed, request_transition
from teams import permissions

BREAK_GLASS_MAX_HOURS = 24
BREAK_GLASS_DEFAULT_HOURS = 4
BREAK_GLASS_MIN_REASON = 10


def _locked(request: Request) -> Request:
    # Only the request's row: a bare FOR UPDATE would also lock the joined team, requester and
    # template version, which every concurrent submission's foreign-key checks need — a
    # deadlock with the audit append lock under load (bench/load.py).
    return (
        Request.objects.select_for_update(of=("self",))
        .select_related("team", "requester", "template_version__template")
        .get(pk=request.pk)
    )


def _decide(*, request: Request, actor, decision: str, comment: str) -> tuple[Request, int]:
    """Record one approver's decision; returns the locked request and the approvals so far."""
    if actor.pk == request.requester_id:
        raise PermissionDenied("Nobody can approve or reject their own request.")
    locked = _locked(request)
    if not permissions.can_decide(actor, locked):
        raise PermissionDenied("Only the team's approvers or a platform admin can decide.")
    if locked.state != RequestState.PENDING_APPROVAL:
        raise TransitionNotAllowed(f"The request is {locked.get_state_display().lower()}.")
    if decision == ApprovalDecision.APPROVED and locked.change_kind == ChangeKind.BREAK_GLASS:
        raise TransitionNotAllowed(
            "It was filed as break-glass: a platform admin approves it with break-glass "
            "(or anyone eligible rejects it)."
        )
    if Approval.objects.filter(request=locked, approver=actor).exists():
        raise TransitionNotAllowed(
            "You have already decided on this request; another approver must be someone else."
        )
    Approval.objects.create(
        request=locked,
        approver=actor,
        decision=decision,
        comment=comment,
        as_platform_admin=not permissions.is_team_approver(actor, locked.team_id),
    )
    approvals = locked.approvals.filter(decision=ApprovalDecision.APPROVED).count()
    return locked, approvals


def request_approve(*, request: Request, actor, comment: str = "") -> Request:
    """One approval; the last one needed approves the request and starts provisioning.
    Medium risk needs one approver, high risk two distinct ones, never the requester."""
    with transaction.atomic():
        locked, approvals = _decide(
            request=request, actor=actor, decision=ApprovalDecision.APPROVED, comment=comment
        )
        audit_record(
            action="request.approval_approved",
            actor=actor,
            obj=locked,
            team=locked.team_id,
            payload={
                "decision": ApprovalDecision.APPROVED,
                "comment": comment,
                "approvals": approvals,
                "required": locked.required_approvals,
            },
        )
        if approvals < locked.required_approvals:
            return locked
        names = ", ".join(
            locked.approvals.filter(decision=ApprovalDecision.APPROVED).values_list(
                "approver__username", flat=True
            )
        )
        request_transition(
            request=locked,
            to_state=RequestState.APPROVED,
            actor=actor,
            reason=f"approved by {names}",
        )
        return request_start_provisioning(request=locked, actor=actor)


def request_reject(*, request: Request, actor, comment: str) -> Request:
    """One eligible approver's rejection ends the request and gives its quota back. Its audit
    event is the `request.rejected` transition (actor, comment and approvals attached): the
    reservation is released before anything is appended to the audit chain (lock order)."""
    if not (comment or "").strip():
        raise RequestInvalid({"comment": ["Say why the request is rejected."]})
    with transaction.atomic():
        locked, _ = _decide(
            request=request, actor=actor, decision=ApprovalDecision.REJECTED, comment=comment
        )
        return request_transition(
            request=locked, to_state=RequestState.REJECTED, actor=actor, reason=comment
        )


def request_cancel(*, request: Request, actor, reason: str = "") -> Request:
    if not permissions.can_cancel(actor, request):
        raise PermissionDenied("Only the requester, a team admin or a platform admin can cancel.")
    with transaction.atomic():
        return request_transition(
            request=request,
            to_state=RequestState.CANCELLED,
            actor=actor,
            reason=reason or "cancelled",
        )


def request_break_glass(
    *, request: Request, actor, reason: str, hours: int = BREAK_GLASS_DEFAULT_HOURS
) -> Request:
    """A platform admin approves a waiting request at once, for an emergency: the reason is
    required, the resources live at most `hours` (≤ 24), and the request is flagged as
    break-glass on every page, in the API, the audit store, e-mails and webhooks."""
    if not permissions.can_break_glass(actor, request):
        raise PermissionDenied("Break-glass is for platform admins, on someone else's request.")
    errors = {}
    if len((reason or "").strip()) < BREAK_GLASS_MIN_REASON:
        errors["reason"] = [f"Give a reason of at least {BREAK_GLASS_MIN_REASON} characters."]
    if not isinstance(hours, int) or not 1 <= hours <= BREAK_GLASS_MAX_HOURS:
        errors["hours"] = [f"Use 1 to {BREAK_GLASS_MAX_HOURS} hours."]
    if errors:
        raise RequestInvalid(errors)
    with transaction.atomic():
        locked = _locked(request)
        if locked.state != RequestState.PENDING_APPROVAL:
            raise TransitionNotAllowed(f"The request is {locked.get_state_display().lower()}.")
        until = timezone.now() + dt.timedelta(hours=hours)
        request_transition(
            request=locked,
            to_state=RequestState.APPROVED,
            actor=actor,
            reason=f"BREAK-GLASS for {hours}h: {reason.strip()}",
            fields={
                "break_glass": True,
                "break_glass_reason": reason.strip(),
                "break_glass_by": actor,
                "break_glass_until": until,
            },
        )
        notifications.request_notify(request=locked, event=notifications.BREAK_GLASS_EVENT)
        return request_start_provisioning(request=locked, actor=actor)
