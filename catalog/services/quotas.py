"""Quotas and budgets: set by platform admins; reserved at submission under row locks (so
concurrent submissions never exceed a limit) and released when a request gives them back."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from audit.services import audit_record
from catalog.choices import ReservationState
from catalog.models import (
    DIMENSIONS,
    Budget,
    MonthlySpend,
    Quota,
    Request,
    Reservation,
    TemplateVersion,
)
from teams.models import Team

HOURS_PER_MONTH = Decimal(730)
CENTS = Decimal("0.01")
UNITS = {"count": "", "cpu_millicores": "m CPU", "memory_mib": " MiB", "storage_gib": " GiB"}


def month_start(moment: dt.datetime | None = None) -> dt.date:
    return timezone.localdate(moment or timezone.now()).replace(day=1)


def cost_for(version: TemplateVersion, ttl_hours: int) -> Decimal:
    """The budget a request reserves: the monthly estimate, pro rata for a TTL under a month."""
    share = min(Decimal(ttl_hours), HOURS_PER_MONTH) / HOURS_PER_MONTH
    return (version.cost_monthly * share).quantize(CENTS, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Standing:
    """What a team holds against one resource kind and month, read under lock."""

    quota: Quota
    spent: Decimal
    budget: Budget | None

    @property
    def used(self) -> dict[str, int]:
        return self.quota.used


def _locked_row(model, **key):
    """The row for `key`, locked with SELECT … FOR UPDATE, created first if there is none yet
    (get_or_create survives a concurrent creator)."""
    return model.objects.select_for_update().get_or_create(**key)[0]


def standing_locked(*, team: Team, kind: str, period: dt.date) -> Standing:
    """Lock the team's counters for this kind and month (PostgreSQL row locks; SQLite's
    IMMEDIATE transactions already serialise writers) and read them with the budget. Call
    first inside the submitting transaction, before any other write: the locks are held until
    it commits, so the next submitter sees this one's reservation."""
    quota = _locked_row(Quota, team=team, kind=kind)
    spend = _locked_row(MonthlySpend, team=team, period=period)
    return Standing(quota=quota, spent=spend.amount, budget=budget_of(team))


def budget_of(team: Team) -> Budget | None:
    """The team's budget (a limit, not a counter: read with the team, outside the lock)."""
    try:
        return team.budget
    except Budget.DoesNotExist:
        return None


def quota_excess(
    *, standing: Standing, team: Team, amounts: dict, cost: Decimal, period: dt.date
) -> list[str]:
    """What the request would exceed, one sentence each ([] when it fits)."""
    kind, quota, budget = amounts["kind"], standing.quota, standing.budget
    reasons = []
    for limit_field, amount in DIMENSIONS:
        limit = getattr(quota, limit_field)
        wanted = amounts.get(amount, 0)
        total = standing.used[amount] + wanted
        if limit is not None and wanted and total > limit:
            unit = UNITS[amount]
            reasons.append(
                f"quota exceeded for {kind} in team {team.slug}: {amount.replace('_', ' ')} "
                f"would be {total}{unit} of {limit}{unit}"
            )
    if budget is not None and cost > 0 and standing.spent + cost > budget.monthly_limit:
        reasons.append(
            f"monthly budget exceeded for team {team.slug}: {standing.spent + cost} of "
            f"{budget.monthly_limit} {budget.currency} in {period:%B %Y}"
        )
    return reasons


def _count(reservation: Reservation, sign: int) -> None:
    """Add (1) or take back (-1) a reservation's amounts on the team's counters."""
    Quota.objects.filter(team_id=reservation.team_id, kind=reservation.kind).update(
        **{
            f"used_{amount}": F(f"used_{amount}") + sign * getattr(reservation, amount)
            for _, amount in DIMENSIONS
        }
    )
    MonthlySpend.objects.filter(team_id=reservation.team_id, period=reservation.period).update(
        amount=F("amount") + sign * reservation.cost
    )


def reservation_create(
    *, request: Request, amounts: dict, cost: Decimal, currency: str, period: dt.date
) -> Reservation:
    """Reserve (after `standing_locked` and `quota_excess`, in the same transaction)."""
    reservation = Reservation.objects.create(
        request=request,
        team_id=request.team_id,
        kind=amounts["kind"],
        **{amount: amounts.get(amount, 0) for _, amount in DIMENSIONS},
        cost=cost,
        currency=currency,
        period=period,
    )
    _count(reservation, +1)
    return reservation


def reservation_release(*, request: Request, reason: str) -> bool:
    """Give the request's quota and budget back (idempotent: False when nothing was held)."""
    reservation = Reservation.objects.filter(request=request, state=ReservationState.ACTIVE)
    held = reservation.order_by().first()
    if held is None or not reservation.update(
        state=ReservationState.RELEASED, released_at=timezone.now(), release_reason=reason
    ):
        return False
    _count(held, -1)
    return True


def reservation_lock(*, request_id: int | None) -> None:
    """Lock the counters that releasing the request's active reservation would change.

    Submissions lock the counters before they append to the audit chain; a transaction that
    appends audit events first and may then release a reservation (a step that ends a run)
    calls this before anything else, so both take the locks in the same order — otherwise
    they deadlock under load (bench/load.py)."""
    if request_id is None:
        return
    held = (
        Reservation.objects.filter(request_id=request_id, state=ReservationState.ACTIVE)
        .values_list("team_id", "kind", "period")
        .first()
    )
    if held is None:
        return
    team_id, kind, period = held
    for model, key in ((Quota, {"kind": kind}), (MonthlySpend, {"period": period})):
        list(model.objects.filter(team_id=team_id, **key).select_for_update().order_by())


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
        quota.save(update_fields=None if quota._state.adding else [*allowed, "updated_at"])
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
