"""What the engine evaluates and what it returns, as plain values (no Django imports).

`SLODefinition` is built from the SLO model (SLO.definition()) or directly by tests and
benchmarks; `Evaluation` is one SLO's result and `contract()` gives the exact JSON object of
`slo_evaluate --json` (docs/architecture.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from slo import windows
from slo.maths import BURN_WINDOWS, Alert
from slo.promql import Selector

OCCURRENCES = "Occurrences"
TIMESLICES = "Timeslices"
RATIO_TIMESLICES = "RatioTimeslices"

OK = "ok"
NO_DATA = "no_data"
UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class RatioIndicator:
    numerator: Selector
    total: Selector
    numerator_is_good: bool


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
    indicator: RatioIndicator | ThresholdIndicator
    budgeting: str = OCCURRENCES
    timeslice_target: float | None = None
    timeslice_seconds: int | None = None
    source: SourceKey = SourceKey("prometheus")

    @property
    def is_sliced(self) -> bool:
        return self.budgeting != OCCURRENCES


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

    def contract(self) -> dict:
        """The object `slo_evaluate --json` prints, with exactly the keys of the contract."""
        return {
            "name": self.name,
            "service": self.service,
            "objective": self.objective,
            "window": self.window,
            "sli": self.sli,
            "error_budget_remaining": self.error_budget_remaining,
            "burn_rates": {key: self.burn_rates.get(key) for key in BURN_WINDOWS},
            "alerts": [alert.as_dict() for alert in self.alerts],
            "data_status": self.data_status,
        }
