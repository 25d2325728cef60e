"""Reads of the executive dashboard: a fixed handful of aggregated, bounded queries whatever the
number of requests, decisions or SLOs (the tests hold the count constant as data grows)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, Min, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from catalog.choices import ChangeKind, DecisionOutcome, RequestState
from catalog.models import Budget, MonthlySpend, PolicyDecision, Request
from catalog.services.quotas import month_start
from dashboards.selectors.common import Scope, TimeRange
from metrics import calculations as calc
from metrics import catalogue
from metrics.choices import PeriodKind
from metrics.models import BudgetAlert, Incident, MetricDefinition, MetricSnapshot
from metrics.periods import WEEK, period_containing
from metrics.selectors import judged_dimensions, metric_definitions
from slo.choices import DataStatus
from slo.selectors import overrides_active, slo_visible, slo_with_latest

# --- SLO health -----------------------------------------------------------------------------------

AT_RISK = 0.25  # less than a quarter of the budget left
# What the health table shows of each SLO (the rest of its definition stays in the database).
HEALTH_FIELDS = (
    "name",
    "team__slug",
    "objective",
    "window_kind",
    "window_duration",
    "calendar_start",
    "calendar_tz",
    "data_status",
    "evaluated_at",
)


@dataclass(frozen=True)
class State:
    key: str
    label: str
    badge: str
    colour: str


# Worst first: the order of the table and of the summary.
STATES = (
    State("exhausted", "Budget exhausted", "bad", "#cf222e"),
    State("at_risk", "At risk (under 25 % left)", "warn", "#bf8700"),
    State("unavailable", "Source unavailable", "bad", "#8250df"),
    State("no_data", "No data", "warn", "#6e7781"),
    State("not_evaluated", "Not evaluated yet", "", "#afb8c1"),
    State("healthy", "Healthy", "ok", "#1a7f37"),
)
STATE = {state.key: state for state in STATES}


def slo_state(slo: Any) -> State:
    """Where an SLO stands, from its latest evaluation; missing data is never healthy."""
    budget = getattr(slo, "latest_budget", None)
    if slo.evaluated_at is None and budget is None:
        return STATE["not_evaluated"]
    if slo.data_status == DataStatus.UNAVAILABLE:
        return STATE["unavailable"]
    if budget is None or slo.data_status == DataStatus.NO_DATA:
        return STATE["no_data"]
    if budget < 0:
        return STATE["exhausted"]
    return STATE["at_risk"] if budget < AT_RISK else STATE["healthy"]


@dataclass
class SloHealth:
    slos: list[tuple[Any, State]]  # SLOs annotated with their latest figures (slo_with_latest)
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return len(self.slos)

    @property
    def summary_badge(self) -> str:
        """bad when a budget is spent or a source is down; warn when one is at risk or not
        measured; ok when every SLO is healthy."""
        if self.counts["exhausted"] or self.counts["unavailable"]:
            return "bad"
        return "ok" if self.counts["healthy"] == self.total else "warn"


def slo_health(*, user) -> SloHealth:
    """Every SLO the caller may see with its latest figures (one query), worst first."""
    slos = (
        slo_with_latest(slo_visible(user=user))
        .select_related(None)
        .select_related("team")
        .only(*HEALTH_FIELDS)
        .order_by("name")
    )
    rated: list[tuple[Any, State]] = [(slo, slo_state(slo)) for slo in slos]
    order = {state.key: i for i, state in enumerate(STATES)}
    rated.sort(
        key=lambda pair: (
            order[pair[1].key],
            pair[0].latest_budget if pair[0].latest_budget is not None else 0.0,
        )
    )
    counts = {state.key: 0 for state in STATES}
    for _, state in rated:
        counts[state.key] += 1
    return SloHealth(rated, counts)


# --- M1–M12, provisioning volume and policy denies (all from the stored daily metrics) -------


@dataclass
class MetricTile:
    metric: catalogue.Metric
    series: dict[str, list[float | None]] = field(default_factory=dict)  # label -> per day
    latest: dict | None = None  # the newest stored figure (of the first series)
    # The figure the target or trend applies to (e.g. M4's low-risk one), per day, of the
    # first series' team (or all teams).
    judged: list[float | None] = field(default_factory=list)
    definition: MetricDefinition | None = None  # when a changed definition began to hold

    @property
    def met(self) -> bool | None:
        """The target or trend rule on the newest day that has the figure it judges."""
        days = [i for i, value in enumerate(self.judged) if value is not None]
        if not days:
            return None
        newest = days[-1]
        return self.metric.verdict(self.judged[newest], self.judged[:newest])

    @property
    def judged_value(self) -> float | None:
        return next((v for v in reversed(self.judged) if v is not None), None)


@dataclass
class MetricDays:
    """The stored daily figures of M1–M12 over a range: tiles per metric, and per day the
    counts behind M2 (requests made ready) and M5 (policy decisions and denies), summed over
    the teams the caller sees (or the totals)."""

    days: list[date]
    tiles: list[MetricTile]
    extras: dict[str, list[dict | None]]  # metric -> per day: summed counts, None if not stored

    def counts(self, metric: str, key: str) -> list[int | None]:
        return [None if day is None else day.get(key, 0) for day in self.extras[metric]]


COUNTED = {"M2": ("count",), "M5": ("requests", "denied")}


def metric_days(*, scope: Scope, span: TimeRange) -> MetricDays:
    """One query: every metric's overall daily snapshots in the range — the totals over all
    teams for those who see every team; otherwise the platform-wide metrics and each of the
    caller's teams' figures."""
    days = span.day_list()
    index = {day: i for i, day in enumerate(days)}
    judged_dimension = judged_dimensions()
    dimensions = {""} | set(judged_dimension.values())
    rows = MetricSnapshot.objects.current().filter(
        period_kind=PeriodKind.DAY, period_start__gte=span.start, dimension__in=dimensions
    )
    if scope.everything:
        rows = rows.filter(team__isnull=True)
    else:
        platform = [m.key for m in catalogue.METRICS if m.scope == catalogue.PLATFORM]
        rows = rows.filter(
            Q(team__isnull=True, metric__in=platform) | Q(team_id__in=scope.team_ids)
        )
    definitions = {d.metric: d for d in metric_definitions()}
    tiles = {
        metric.key: MetricTile(
            metric, judged=[None] * len(days), definition=definitions.get(metric.key)
        )
        for metric in catalogue.METRICS
    }
    extras: dict[str, list[dict | None]] = {key: [None] * len(days) for key in COUNTED}
    fields = (
        "metric",
        "period_start",
        "team__slug",
        "dimension",
        "value",
        "data_status",
        "detail",
        "extras",
    )
    judged: dict[str, dict[str, list]] = {}  # metric -> label -> per day
    for row in rows.order_by("period_start", "team__slug").values(*fields):
        tile = tiles.get(row["metric"])
        position = index.get(row["period_start"].date())
        if tile is None or position is None:
            continue
        label = row["team__slug"] or "all teams"
        if row["dimension"] == judged_dimension.get(row["metric"]):
            judged.setdefault(row["metric"], {}).setdefault(label, [None] * len(days))[position] = (
                row["value"]
            )
        if row["dimension"]:
            continue
        tile.series.setdefault(label, [None] * len(days))[position] = row["value"]
        if tile.latest is None or label == next(iter(tile.series)):
            tile.latest = {**row, "label": label}
        if row["metric"] in COUNTED:
            day = extras[row["metric"]][position] or {}
            for key in COUNTED[row["metric"]]:
                day[key] = day.get(key, 0) + (row["extras"] or {}).get(key, 0)
            extras[row["metric"]][position] = day
    for key, by_label in judged.items():
        tile = tiles[key]
        first = next(iter(tile.series), None) or next(iter(by_label))
        tile.judged = by_label.get(first, tile.judged)
    return MetricDays(days, list(tiles.values()), extras)


def provisioning_volume(found: MetricDays) -> dict[str, list[int | None]]:
    """Requests made ready per day (M2's count); None for a day not computed."""
    return {"made ready": found.counts("M2", "count")}


def deny_trend(found: MetricDays) -> dict[str, list[int | None]]:
    """Catalog requests the policies decided on per day: denied by an enforcing policy (each
    request once) or let through (M5's counts)."""
    requests = found.counts("M5", "requests")
    denied = found.counts("M5", "denied")
    allowed = [None if n is None else n - (denied[i] or 0) for i, n in enumerate(requests)]
    return {"denied": denied, "allowed": allowed}


# --- cost ----------------------------------------------------------------------------------------


@dataclass
class TeamCost:
    team: str
    currency: str = ""
    limit: Decimal | None = None
    reserved: Decimal = Decimal(0)
    billed: Decimal | None = None
    budgeted_so_far: Decimal | None = None
    burn_rate: float | None = None
    firing: bool = False
    covered_until: datetime | None = None


def cost_burn(*, scope: Scope, now: datetime | None = None) -> tuple[date, list[TeamCost]]:
    """Per team, this month: the budget, what its requests reserve (catalog) and what the FOCUS
    bills charge with the burn rate against the budget's pace (the hourly budget job)."""
    month = month_start(now or timezone.now())
    costs: dict[str, TeamCost] = {}

    def of(slug: str) -> TeamCost:
        return costs.setdefault(slug, TeamCost(slug))

    for budget in scope.teams(Budget.objects.select_related("team")):
        entry = of(budget.team.slug)
        entry.limit, entry.currency = budget.monthly_limit, budget.currency
    spends = scope.teams(MonthlySpend.objects.filter(period=month)).values("team__slug", "amount")
    for spend in spends:
        of(spend["team__slug"]).reserved = spend["amount"]
    for alert in scope.teams(BudgetAlert.objects.filter(month=month).select_related("team")):
        entry = of(alert.team.slug)
        entry.billed, entry.budgeted_so_far = alert.spend, alert.budgeted_so_far
        entry.burn_rate, entry.firing = alert.burn_rate, alert.firing
        entry.covered_until = alert.covered_until
        entry.currency = entry.currency or alert.currency
        entry.limit = entry.limit if entry.limit is not None else alert.monthly_limit
    return month, sorted(costs.values(), key=lambda c: c.team)


# --- approvals -----------------------------------------------------------------------------------


@dataclass
class Approvals:
    waiting: int
    overdue: int
    oldest: datetime | None
    by_team: list[tuple[str, int]]
    oldest_requests: list[Request]


def outstanding_approvals(*, scope: Scope, now: datetime | None = None, limit: int = 15):
    """Requests waiting for an approver: how many, how many past their due time, per team, and
    the longest-waiting ones (three queries on the state index)."""
    now = now or timezone.now()
    pending = scope.teams(Request.objects.filter(state=RequestState.PENDING_APPROVAL))
    totals = pending.aggregate(
        waiting=Count("id"),
        overdue=Count("id", filter=Q(approval_due_at__lt=now)),
        oldest=Min("created_at"),
    )
    per_team: dict[str, int] = defaultdict(int)
    for row in pending.values("team__slug").annotate(n=Count("id")).order_by("team__slug"):
        per_team[row["team__slug"]] += row["n"]
    oldest = pending.select_related("team", "requester", "template_version__template").order_by(
        "created_at"
    )[:limit]
    return Approvals(
        totals["waiting"], totals["overdue"], totals["oldest"], list(per_team.items()), list(oldest)
    )


# --- incidents -----------------------------------------------------------------------------------


def incident_weeks(*, scope: Scope, span: TimeRange) -> list[calc.PeriodIncidents]:
    """MTTA and MTTR per ISO week of the range (one query: the incidents that moved in it)."""
    weeks = []
    week = period_containing(WEEK, span.start)
    while week.start < span.now:
        weeks.append((week.start, week.end))
        week = week.next()
    first = weeks[0][0]
    moved = scope.teams(Incident.objects.all()).filter(
        Q(opened_at__gte=first) | Q(acknowledged_at__gte=first) | Q(resolved_at__gte=first)
    )
    times = [
        calc.IncidentTimes(*row)
        for row in moved.values_list("started_at", "opened_at", "acknowledged_at", "resolved_at")
    ]
    return calc.incident_periods(times, weeks)


# --- change freezes -------------------------------------------------------------------------------

FREEZE_POLICY = "error-budget-freeze"


@dataclass
class FreezeHolds:
    """Changes the error-budget freeze held (enforced denials) and let through as fixes or
    break-glass (its warnings), per UTC day of the range; and the freezes lifted right now."""

    held: list[int]
    let_through: list[int]
    overrides: list[Any]

    @property
    def total_held(self) -> int:
        return sum(self.held)


def freeze_holds(*, scope: Scope, span: TimeRange) -> FreezeHolds:
    """Two queries: the freeze policy's enforced decisions per day and outcome, and the running
    overrides."""
    days = span.day_list()
    position = {day: i for i, day in enumerate(days)}
    held, let_through = [0] * len(days), [0] * len(days)
    decisions = scope.teams(
        PolicyDecision.objects.filter(
            policy_version__policy__slug=FREEZE_POLICY,
            enforced=True,
            request__isnull=False,
            created_at__gte=span.start,
        ),
        "request__team_id",
    )
    rows = (
        decisions.annotate(day=TruncDate("created_at", tzinfo=UTC))
        .values("day", "outcome", "request__change_kind")
        .annotate(n=Count("id"))
    )
    for row in rows:
        index = position.get(row["day"])
        if index is None:
            continue
        if row["outcome"] == DecisionOutcome.DENY:
            held[index] += row["n"]
        elif row["request__change_kind"] != ChangeKind.NORMAL:
            let_through[index] += row["n"]
    return FreezeHolds(held, let_through, list(overrides_active(now=span.now)))
