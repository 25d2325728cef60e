"""Quotas and budgets: set by platform admins; reserved at submission under row locks (so
concurrent submissions never exceed a limit) and released when a request gives them back."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection, transaction
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
    Team,
    TemplateVersion,
)
from ssops_site import rows

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


def _locked_row(model, key: dict):
    """The row for `key`, locked with SELECT … FOR UPDATE, created first if there is none
    yet (get_or_create survives a concurrent creator). Plain SQL: this runs inside every
    submission's write lock, which is kept as short as it can be."""
    row = rows.columns(model, "t")
    quote = connection.ops.quote_name
    where = " AND ".join(f"t.{quote(model._meta.get_field(name).column)} = %s" for name in key)
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    sql = f"SELECT {row.sql} FROM {quote(model._meta.db_table)} t WHERE {where}{lock}"
    params = [rows.prep(model, name, value) for name, value in key.items()]
    values = rows.fetch_one(sql, params)
    if values is None:
        model.objects.get_or_create(**key)
        values = rows.fetch_one(sql, params)
    return row.instance(values)


def standing_locked(*, team: Team, kind: str, period: dt.date) -> Standing:
    """Lock the team's counters for this kind and month (PostgreSQL row locks; SQLite's
    IMMEDIATE transactions already serialise writers) and read them with the budget. Call
    first inside the submitting transaction, before any other write: the locks are held until
    it commits, so the next submitter sees this one's reservation."""
    quota = _locked_row(Quota, {"team": team, "kind": kind})
    spend = _locked_row(MonthlySpend, {"team": team, "period": period})
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


_ADD_USED = ", ".join(f"used_{amount} = used_{amount} + %s" for _, amount in DIMENSIONS)


def _count(reservation: Reservation, sign: int) -> None:
    """Add (1) or take back (-1) a reservation's amounts on the counters. Plain SQL: this
    runs inside every submission's write lock, which is kept as short as it can be."""
    amounts = [sign * getattr(reservation, amount) for _, amount in DIMENSIONS]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Quota._meta.db_table} SET {_ADD_USED} WHERE team_id = %s AND kind = %s",
            [*amounts, reservation.team_id, reservation.kind],
        )
        cursor.execute(
            f"UPDATE {MonthlySpend._meta.db_table} SET amount = amount + %s "
            "WHERE team_id = %s AND period = %s",
            [sign * reservation.cost, reservation.team_id, reservation.period],
        )


def reservation_create(
    *, request: Request, amounts: dict, cost: Decimal, currency: str, period: dt.date
) -> Reservation:
    """Reserve (after `standing_locked` and `quota_excess`, in the same transaction)."""
    reservation = Reservation(
        request=request,
        team_id=request.team_id,
        kind=amounts["kind"],
        **{amount: amounts.get(amount, 0) for _, amount in DIMENSIONS},
        cost=cost,
        currency=currency,
        period=period,
    )
    rows.insert([reservation])
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
