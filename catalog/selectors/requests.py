"""Reads for catalog pages and API, scoped to what the caller may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone

from catalog.choices import ApprovalDecision, RequestState, ReservationState
from catalog.models import (
    DIMENSIONS,
    Budget,
    MonthlySpend,
    Policy,
    PolicyDecision,
    Quota,
    Request,
    Reservation,
    Template,
)
from catalog.services.quotas import month_start
from teams import permissions
from teams.models import Team


def template_list(*, include_deprecated: bool = False) -> QuerySet[Template]:
    """The catalog: every template with a published version (the catalog is public to all
    signed-in users; what they may request is decided at submission)."""
    templates = Template.objects.select_related("latest_version")
    if not include_deprecated:
        templates = templates.filter(latest_version__isnull=False)
    return templates


def request_list_visible(*, user) -> QuerySet[Request]:
    """Requests of the caller's teams and their own; platform admins and executives see all."""
    requests = Request.objects.select_related(
        "team", "requester", "template_version__template", "break_glass_by"
    )
    if permissions.sees_everything(user):
        return requests
    return permissions.of_teams_or_own(requests, user, own="requester")


def approval_inbox(*, user) -> QuerySet[Request]:
    """Requests waiting for a decision the caller may give: their teams' (as approver or team
    admin) or all (as platform admin); never their own, nor ones they already decided."""
    pending = request_list_visible(user=user).filter(state=RequestState.PENDING_APPROVAL)
    if not permissions.is_platform_admin(user):
        approver_teams = [
            t for t in permissions.team_ids(user) if permissions.is_team_approver(user, t)
        ]
        pending = pending.filter(team_id__in=approver_teams)
    return (
        pending.exclude(requester_id=user.pk)
        .exclude(approvals__approver_id=user.pk)
        .order_by("approval_due_at", "created_at")
    )


def waiting_on_others(*, user) -> QuerySet[Request]:
    """The caller's own requests that wait for approvers."""
    return request_list_visible(user=user).filter(
        requester_id=user.pk, state=RequestState.PENDING_APPROVAL
    )


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # "transition" | "approval" | "nudge" (a reminder or an escalation)
    state: str
    actor: str
    text: str
    audit_seq: int | None = None


def request_timeline(*, request: Request) -> list[TimelineEntry]:
    entries = [
        TimelineEntry(
            at=t.created_at,
            kind="transition",
            state=t.to_state,
            actor=t.actor.get_username() if t.actor else "SSOps",
            text=t.reason,
            audit_seq=t.audit_seq,
        )
        for t in request.transitions.select_related("actor")
    ]
    entries += [
        TimelineEntry(
            at=a.created_at,
            kind="approval",
            state=a.decision,
            actor=a.approver.get_username(),
            text=a.comment,
        )
        for a in request.approvals.select_related("approver")
    ]
    entries += [
        TimelineEntry(
            at=n.sent_at,
            kind="nudge",
            state=n.get_kind_display(),
            actor="SSOps",
            text=f"told {', '.join(n.recipients) or 'nobody (no one to tell)'}",
            audit_seq=n.audit_seq,
        )
        for n in request.nudges.all()
    ]
    return sorted(entries, key=lambda e: e.at)


def request_approvals_given(*, request: Request) -> int:
    return request.approvals.filter(decision=ApprovalDecision.APPROVED).count()


def team_usage(*, team: Team, at: datetime | None = None) -> dict:
    """Quotas with what is used of each, and the month's budget with what is reserved."""
    period = month_start(at or timezone.now())
    kinds = [
        {
            "kind": quota.kind,
            "dimensions": [
                {
                    "name": amount,
                    "used": quota.used[amount],
                    "limit": getattr(quota, limit),
                    "percent": _percent(quota.used[amount], getattr(quota, limit)),
                }
                for limit, amount in DIMENSIONS
            ],
        }
        for quota in Quota.objects.filter(team=team).order_by("kind")
        if quota.has_limits or any(quota.used.values())
    ]
    budget = Budget.objects.filter(team=team).first()
    spend = MonthlySpend.objects.filter(team=team, period=period).first()
    spent = spend.amount if spend else Decimal(0)
    return {
        "team": team,
        "period": period,
        "kinds": kinds,
        "budget": {
            "limit": budget.monthly_limit if budget else None,
            "currency": budget.currency if budget else "",
            "spent": spent,
            "percent": _percent(spent, budget.monthly_limit if budget else None),
        },
        "active_reservations": Reservation.objects.filter(
            team=team, state=ReservationState.ACTIVE
        ).count(),
    }


def _percent(used, limit) -> int | None:
    if limit is None:
        return None
    if not limit:
        return 100 if used else 0
    return min(999, round(100 * float(used) / float(limit)))


def policy_list() -> QuerySet[Policy]:
    return Policy.objects.select_related("current_version")


def decision_list() -> QuerySet[PolicyDecision]:
    return PolicyDecision.objects.select_related("policy_version__policy", "request")
