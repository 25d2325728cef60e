"""What the engine evaluates and what it returns, as plain values (no Django imports).

`SLODefinition` is built from the SLO model (SLO.definition()) or directly by tests and
benchmarks; `Evaluation` is one SLO's result and `contract()` gives the exact JSON object of
`slo_evaluate --json` (docs/architecture.md). A grouped SLO gives one Evaluation for the
definition (its figures over every group together) holding one Evaluation per group.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from slo import maths, windows
from slo.expressions import EXACT, PROMQL, Counters
from slo.maths import BURN_WINDOWS, Alert
from slo.promql import quote

OCCURRENCES = "Occurrences"
TIMESLICES = "Timeslices"
RATIO_TIMESLICES = "RatioTimeslices"

OK = "ok"
NO_DATA = "no_data"
UNAVAILABLE = "unavailable"
# Figures are there, but an alert's long window holds fewer events than its minimum, so that
# alert is held back (the low-traffic guard).
LOW_TRAFFIC = "low_traffic"
# The statuses that come with figures.
MEASURED = (OK, LOW_TRAFFIC)

# Why an alert whose burn-rate condition holds does not fire.
HELD_LOW_TRAFFIC = "low_traffic"
HELD_MAINTENANCE = "maintenance"


GroupKey = tuple[str, ...]


@dataclass(frozen=True)
class RatioIndicator:
    """Good or bad events over all events, as counters SSOps counts itself (the exact path)."""

    numerator: Counters
    total: Counters
    numerator_is_good: bool


@dataclass(frozen=True)
class QueryIndicator:
    """Expressions Prometheus evaluates per window, `{{.window}}` standing for the window (the
    promql path): `numerator` (good or bad events) over `total`, or else `ratio` alone (a raw
    SLI, the good share when `numerator_is_good`, else the error ratio)."""

    numerator: str = ""
    total: str = ""
    ratio: str = ""
    numerator_is_good: bool = False

    @property
    def is_raw(self) -> bool:
        return bool(self.ratio)


@dataclass(frozen=True)
class ThresholdIndicator:
    """A metric compared per time slice: the slice is good when `value op threshold`."""

    query: str
    op: str
    threshold: float


@dataclass(frozen=True)
class Window:
    duration: windows.Duration
    calendar_start: datetime | None = None
    calendar_tz: str = "UTC"

    @property
    def is_calendar(self) -> bool:
        return self.calendar_start is not None

    @property
    def label(self) -> str:
        return f"{self.duration} calendar" if self.is_calendar else str(self.duration)

    @property
    def period_seconds(self) -> int:
        """The length that scales alert factors and the time to exhaustion (nominal for months)."""
        return self.duration.nominal_seconds

    def start(self, at: datetime) -> datetime:
        """Where the SLO window that ends at `at` begins."""
        if self.is_calendar:
            return windows.calendar_period(
                self.calendar_start, self.calendar_tz, self.duration, at
            )[0]
        return datetime.fromtimestamp(at.timestamp() - self.period_seconds, tz=UTC)


@dataclass(frozen=True)
class SourceKey:
    """Which source answers: ("prometheus", url) or ("platform", "")."""

    kind: str
    url: str = ""


@dataclass(frozen=True)
class SLODefinition:
    name: str
    service: str
    team: str
    objective: float
    window: Window
    indicator: RatioIndicator | QueryIndicator | ThresholdIndicator
    budgeting: str = OCCURRENCES
    timeslice_target: float | None = None
    timeslice_seconds: int | None = None
    source: SourceKey = SourceKey("prometheus")
    group_by: tuple[str, ...] = ()
    # The low-traffic guard: the fewest events an alert's long window needs (None: the default
    # of each alert, maths.min_events_default; 0: no guard).
    min_events: int | None = None
    # Planned maintenance: (start, end) in unix seconds, merged and sorted; events inside do not
    # count (the promql path cuts them out of the SLO window only) and alerts do not fire.
    excluded: tuple[tuple[float, float], ...] = ()

    def in_maintenance(self, moment: float) -> bool:
        return any(start <= moment < end for start, end in self.excluded)

    @property
    def is_sliced(self) -> bool:
        return self.budgeting != OCCURRENCES

    @property
    def evaluation(self) -> str:
        """exact when SSOps counts the events itself, promql when Prometheus evaluates them."""
        return EXACT if isinstance(self.indicator, RatioIndicator) else PROMQL

    def group_labels(self, key: GroupKey) -> dict[str, str]:
        return dict(zip(self.group_by, key, strict=True))

    def group_name(self, key: GroupKey) -> str:
        """`name{label="value",...}`, the name of one group in slo_evaluate's output."""
        pairs = ",".join(
            f"{label}={quote(value)}" for label, value in zip(self.group_by, key, strict=True)
        )
        return f"{self.name}{{{pairs}}}"


@dataclass
class Measured:
    """An SLI over one window, by group (the key () for an SLO that is not grouped): events
    good or bad (`numerator`) and all events (`total`); for a raw SLI, the ratio itself in
    `numerator` and no `total`. A group without data is absent, never 0."""

    numerator: dict[GroupKey, float] = field(default_factory=dict)
    total: dict[GroupKey, float] | None = field(default_factory=dict)
    # What turns `total` into a number of events (the window's length for a per-second rate),
    # None when it cannot (a raw ratio, an expression that is not events).
    events_scale: float | None = 1.0

    @property
    def is_ratio(self) -> bool:
        return self.total is None

    def keys(self) -> set[GroupKey]:
        return set(self.numerator if self.total is None else self.total)

    def ratios(self, key: GroupKey, numerator_is_good: bool) -> tuple[float | None, float | None]:
        """(SLI, error ratio) of one group."""
        if self.total is None:
            ratio = self.numerator.get(key)
            return maths.ratios(ratio, None if ratio is None else 1.0, numerator_is_good)
        return maths.ratios(self.numerator.get(key), self.total.get(key), numerator_is_good)

    def events(self, key: GroupKey) -> float | None:
        """How many events the window holds for one group (None when unknown)."""
        if self.total is None or self.events_scale is None or key not in self.total:
            return None
        return self.total[key] * self.events_scale

    def overall(self) -> Measured | None:
        """Every group together (events add up; ratios do not: None)."""
        if self.total is None:
            return None
        numerator = {(): sum(self.numerator.values())} if self.numerator else {}
        total = {(): sum(self.total.values())} if self.total else {}
        return Measured(numerator, total, self.events_scale)


@dataclass(frozen=True)
class HeldAlert:
    """An alert whose burn-rate condition holds but that does not fire, and why (a
    HELD_* reason)."""

    alert: Alert
    reason: str

    def as_dict(self) -> dict:
        return {**self.alert.as_dict(), "reason": self.reason}


@dataclass
class Evaluation:
    name: str
    service: str
    objective: float
    window: str
    at: datetime
    data_status: str
    sli: float | None = None
    error_budget_remaining: float | None = None
    burn_rates: dict[str, float | None] = field(default_factory=lambda: dict.fromkeys(BURN_WINDOWS))
    alerts: list[Alert] = field(default_factory=list)
    time_to_exhaustion: float | None = None
    detail: str = ""
    evaluation: str = EXACT
    # Grouped SLOs: the group's labels (an empty mapping for the definition itself), and on the
    # definition's evaluation, one evaluation per group. None for an SLO that is not grouped.
    group: dict[str, str] | None = None
    groups: list[Evaluation] | None = None
    # Alerts whose conditions hold but that the low-traffic guard or a maintenance window holds
    # back (not part of slo_evaluate's contract; shown on the pages and in the API).
    held: list[HeldAlert] = field(default_factory=list)

    def contract_objects(self) -> list[dict]:
        """What `slo_evaluate --json` prints for this SLO: one object, or one per group."""
        if self.groups:
            return [group.contract() for group in self.groups]
        return [self.contract()]

    def contract(self) -> dict:
        """The object `slo_evaluate --json` prints, with exactly the keys of the contract."""
        found = {
            "name": self.name,
            "service": self.service,
            "objective": self.objective,
            "window": self.window,
            "sli": self.sli,
            "error_budget_remaining": self.error_budget_remaining,
            "burn_rates": {key: self.burn_rates.get(key) for key in BURN_WINDOWS},
            "alerts": [alert.as_dict() for alert in self.alerts],
            "data_status": self.data_status,
            "evaluation": self.evaluation,
        }
        if self.group is not None:
            found["group"] = dict(self.group)
        return found
