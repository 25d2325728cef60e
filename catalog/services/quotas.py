"""Quotas and budgets: set by platform admins; reserved at submission under row locks (so
concurrent submissions never exceed a limit) and released when a request gives them back."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from audit.services import audit_record
from catalog.choices import ReservationState
from catalog.models import DIMENSIONS, Budget, Quota, Request, Reservation, Team, TemplateVersion

HOURS_PER_MONTH = Decimal(730)
CENTS = Decimal("0.01")
UNITS = {"count": "", "cpu_millicores": "m CPU", "memory_mib": " MiB", "storage_gib": " GiB"}


def month_start(moment: dt.datetime | None = None) -> dt.date:
    return timezone.localdate(moment or timezone.now()).replace(day=1)


def cost_for(version: TemplateVersion, ttl_hours: int) -> Decimal:
    """The budget a request reserves: the monthly estimate, pro rata for a TTL under a month."""
    share = min(Decimal(ttl_hours), HOURS_PER_MONTH) / HOURS_PER_MONTH
    return (version.cost_monthly * share).quantize(CENTS, rounding=ROUND_HALF_UP)


def usage_of(*, team_id: int, kind: str, period: dt.date) -> tuple[dict[str, int], Decimal]:
    """What the team's active reservations add up to: of this kind, and spent in the period
    (one query)."""
    of_kind = Q(kind=kind)
    totals = Reservation.objects.filter(team_id=team_id, state=ReservationState.ACTIVE).aggregate(
        **{amount: Sum(amount, filter=of_kind) for _, amount in DIMENSIONS},
        spent=Sum("cost", filter=Q(period=period)),
    )
    used = {amount: totals[amount] or 0 for _, amount in DIMENSIONS}
    # SQLite sums decimals as floats: bring the total back to cents.
    return used, Decimal(totals["spent"] or 0).quantize(CENTS)


def quota_lock_and_check(*, team: Team, amounts: dict, cost: Decimal, period: dt.date) -> list[str]:
    """Lock the team's quota row for this kind and its budget row (PostgreSQL row locks; SQLite
    IMMEDIATE transactions already serialise writers), then say what the request would exceed.
    Call first inside the submitting transaction, before any other write: the locks are held
    until it commits, so the next submitter sees this reservation."""
    kind = amounts["kind"]
    reasons = []
    quota = Quota.objects.select_for_update().filter(team=team, kind=kind).first()
    budget = Budget.objects.select_for_update().filter(team=team).first()
    if quota is None and budget is None:
        return reasons
    used, spent = usage_of(team_id=team.pk, kind=kind, period=period)
    if quota is not None:
        for limit_field, amount in DIMENSIONS:
            limit = getattr(quota, limit_field)
            wanted = amounts.get(amount, 0)
            if limit is not None and wanted and used[amount] + wanted > limit:
                unit = UNITS[amount]
                reasons.append(
                    f"quota exceeded for {kind} in team {team.slug}: {amount.replace('_', ' ')} "
                    f"would be {used[amount] + wanted}{unit} of {limit}{unit}"
                )
    if budget is not None and cost > 0 and spent + cost > budget.monthly_limit:
        reasons.append(
            f"monthly budget exceeded for team {team.slug}: {spent + cost} of "
            f"{budget.monthly_limit} {budget.currency} in {period:%B %Y}"
        )
    return reasons


def reservation_create(
    *, request: Request, amounts: dict, cost: Decimal, currency: str, period: dt.date
) -> Reservation:
    return Reservation.objects.create(
        request=request,
        team_id=request.team_id,
        kind=amounts["kind"],
        **{amount: amounts.get(amount, 0) for _, amount in DIMENSIONS},
        cost=cost,
        currency=currency,
        period=period,
    )


def reservation_release(*, request: Request, reason: str) -> bool:
    """Give the request's quota and budget back (idempotent: False when nothing was held)."""
    return bool(
        Reservation.objects.filter(request=request, state=ReservationState.ACTIVE).update(
            state=ReservationState.RELEASED, released_at=timezone.now(), release_reason=reason
        )
    )


def quota_set(*, actor, team: Team, kind: str, **limits: int | None) -> Quota:
    """Create or change a team's limits for one resource kind (None: no limit)."""
    allowed = {limit for limit, _ in DIMENSIONS}
    if set(limits) - allowed:
        raise ValueError(f"unknown limits: {', '.join(sorted(set(limits) - allowed))}")
    with transaction.atomic():
        quota = Quota.objects.select_for_update().filter(team=team, kind=kind).first()
        before = {limit: getattr(quota, limit) for limit in allowed} if quota else None
        quota = quota or Quota(team=team, kind=kind)
        for limit, value in limits.items():
            setattr(quota, limit, value)
        after = {limit: getattr(quota, limit) for limit in allowed}
        if before == after:
            return quota
        quota.full_clean()
        quota.save()
        audit_record(
            action="quota.set",
            actor=actor,
            obj=team,
            team=team,
            payload={"kind": kind, "limits": after, "previous": before},
        )
    return quota


def budget_set(*, actor, team: Team, monthly_limit: Decimal, currency: str = "EUR") -> Budget:
    monthly_limit = Decimal(monthly_limit).quantize(CENTS)
    with transaction.atomic():
        budget = Budget.objects.select_for_update().filter(team=team).first()
        before = (budget.monthly_limit, budget.currency) if budget else None
        if before == (monthly_limit, currency):
            return budget
        budget = budget or Budget(team=team)
        budget.monthly_limit, budget.currency = monthly_limit, currency
        budget.full_clean()
        budget.save()
        audit_record(
            action="budget.set",
            actor=actor,
            obj=team,
            team=team,
            payload={
                "monthly_limit": str(monthly_limit),
                "currency": currency,
                "previous": [str(before[0]), before[1]] if before else None,
            },
        )
    return budget
