"""The SLO maths, as pure functions (numpy; no Django imports).

Conventions (docs/architecture.md, "The SLO maths"):
- Occurrences: over a window, error ratio = bad/total (or 1 - good/total), where bad, good and
  total are counter increases computed the way Prometheus `increase()` computes them. Events are
  counted, never averaged over short windows.
- Error budget = 1 - objective; burn rate = error ratio / (1 - objective); budget remaining =
  1 - error ratio over the SLO window / (1 - objective), negative once exhausted.
- No data is None, never 0 and never 100% good: a window without a total has no ratio, no burn
  rate, and raises no alert.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import numpy as np

# The burn-rate windows, in seconds, in the order they are reported.
BURN_WINDOWS: dict[str, int] = {
    "5m": 300,
    "30m": 1800,
    "1h": 3600,
    "2h": 7200,
    "6h": 21600,
    "1d": 86400,
    "3d": 259200,
}
PERIOD_30D = 30 * 86400


@dataclass(frozen=True)
class AlertWindow:
    """Google SRE workbook, multiwindow multi-burn-rate: `budget_percent` of a 30-day budget
    spent within `long_window` (confirmed by `short_window`) raises `severity`."""

    severity: str
    long_window: str
    short_window: str
    budget_percent: int


ALERT_WINDOWS = (
    AlertWindow("page", "1h", "5m", 2),
    AlertWindow("page", "6h", "30m", 5),
    AlertWindow("ticket", "1d", "2h", 10),
    AlertWindow("ticket", "3d", "6h", 10),
)


@dataclass(frozen=True)
class Alert:
    severity: str
    long_window: str
    short_window: str
    burn_rate_threshold: float

    def as_dict(self) -> dict:
        return {
            "severity": self.severity,
            "long_window": self.long_window,
            "short_window": self.short_window,
            "burn_rate_threshold": self.burn_rate_threshold,
        }


def extrapolated_increase(
    timestamps_ms: Sequence[int] | np.ndarray,
    values: Sequence[float] | np.ndarray,
    range_start_ms: int,
    range_end_ms: int,
) -> float | None:
    """`increase()` of one counter series over [range_start, range_end], as Prometheus 2.x
    computes it (promql/functions.go, extrapolatedRate with isCounter and not isRate).

    `timestamps_ms` and `values` are the samples inside the range, oldest first. Fewer than two
    samples give None (the series is absent from the result), never 0.
    """
    ts = np.asarray(timestamps_ms, dtype=np.int64)
    vs = np.asarray(values, dtype=np.float64)
    if len(vs) < 2:
        return None
    result = float(vs[-1] - vs[0])
    # A drop is a counter reset: the value before the drop was counted, so add it back (one at a
    # time, in order, as Go does, so that the float result is the same).
    previous = np.concatenate(([0.0], vs[:-1]))
    for dropped in previous[vs < previous]:
        result += float(dropped)
    duration_to_start = float(ts[0] - range_start_ms) / 1000
    duration_to_end = float(range_end_ms - ts[-1]) / 1000
    sampled_interval = float(ts[-1] - ts[0]) / 1000
    average_interval = sampled_interval / float(len(vs) - 1)
    if result > 0 and vs[0] >= 0:
        # Counters start at zero: never extrapolate to before the zero point.
        duration_to_zero = sampled_interval * (float(vs[0]) / result)
        if duration_to_zero < duration_to_start:
            duration_to_start = duration_to_zero
    threshold = average_interval * 1.1
    extrapolate_to = sampled_interval
    extrapolate_to += duration_to_start if duration_to_start < threshold else average_interval / 2
    extrapolate_to += duration_to_end if duration_to_end < threshold else average_interval / 2
    return result * (extrapolate_to / sampled_interval)


def ratios(
    numerator: float | None, total: float | None, numerator_is_good: bool
) -> tuple[float | None, float | None]:
    """(SLI, error ratio) from event counts, written as PromQL would (good/total, bad/total).

    No total, or a total of zero, is no data. A missing numerator next to a present total means
    no such events (an error counter that was never created), so it counts as zero.
    """
    if total is None or total == 0 or np.isnan(total):
        return None, None
    numerator = 0.0 if numerator is None or np.isnan(numerator) else numerator
    if numerator_is_good:
        return numerator / total, 1 - numerator / total
    return 1 - numerator / total, numerator / total


def error_budget(objective: float) -> float:
    return 1 - objective


def burn_rate(error_ratio: float | None, objective: float) -> float | None:
    if error_ratio is None:
        return None
    return error_ratio / (1 - objective)


def budget_remaining(error_ratio: float | None, objective: float) -> float | None:
    """Share of the window's error budget left: 1 at no errors, 0 when spent, negative beyond."""
    if error_ratio is None:
        return None
    return 1 - error_ratio / (1 - objective)


@lru_cache(maxsize=1024)
def burn_rate_threshold(
    budget_percent: int, period_seconds: int, long_window_seconds: int
) -> float:
    """Budget share × period ÷ long window, exact before the one rounding to float
    (30 days: 14.4, 6, 3, 1; Sloth's 28 days: 13.44, 5.6, 2.8, 0.9333…)."""
    return float(Fraction(budget_percent, 100) * Fraction(period_seconds, long_window_seconds))


def alert_thresholds(period_seconds: int) -> list[Alert]:
    return list(_thresholds(period_seconds))


@lru_cache(maxsize=256)  # a few periods, asked for every SLO at every evaluation
def _thresholds(period_seconds: int) -> tuple[Alert, ...]:
    return tuple(
        Alert(
            w.severity,
            w.long_window,
            w.short_window,
            burn_rate_threshold(w.budget_percent, period_seconds, BURN_WINDOWS[w.long_window]),
        )
        for w in ALERT_WINDOWS
    )


def alerts_firing(burn_rates: Mapping[str, float | None], period_seconds: int) -> list[Alert]:
    """The window pairs whose long and short burn rates are both above their threshold.

    A window without data (None) never fires, so missing data never pages.
    """
    firing = []
    for alert in alert_thresholds(period_seconds):
        long_burn = burn_rates.get(alert.long_window)
        short_burn = burn_rates.get(alert.short_window)
        if long_burn is None or short_burn is None:
            continue
        if long_burn > alert.burn_rate_threshold and short_burn > alert.burn_rate_threshold:
            firing.append(alert)
    return firing


def time_to_exhaustion(
    remaining: float | None, current_burn: float | None, period_seconds: int
) -> float | None:
    """Seconds until the budget is spent if the current burn rate goes on; 0 once spent,
    None when unknown or when nothing is being spent."""
    if remaining is None:
        return None
    if remaining <= 0:
        return 0.0
    if current_burn is None or current_burn <= 0:
        return None
    # A burn rate of 1 spends the whole budget in one period.
    return remaining * period_seconds / current_burn


def slice_goodness(
    numerator: np.ndarray,
    total: np.ndarray,
    numerator_is_good: bool,
    target: float | None,
) -> np.ndarray:
    """Per time slice: its good ratio (RatioTimeslices, target None) or 1.0/0.0 for a slice that
    met / missed `target` (Timeslices). NaN for a slice without data (no total, or zero)."""
    numerator = np.asarray(numerator, dtype=np.float64)
    total = np.asarray(total, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        counted = np.where(np.isnan(numerator), 0.0, numerator)
        valid = ~np.isnan(total) & (total > 0)
        good = counted / total if numerator_is_good else 1 - counted / total
        good = np.where(valid, good, np.nan)
    if target is None:
        return good
    return np.where(np.isnan(good), np.nan, (good >= target).astype(np.float64))


def threshold_goodness(values: np.ndarray, op: str, threshold: float) -> np.ndarray:
    """Per time slice: 1.0 when the metric met `op threshold`, 0.0 when not, NaN without data."""
    values = np.asarray(values, dtype=np.float64)
    compare = {"lt": np.less, "lte": np.less_equal, "gt": np.greater, "gte": np.greater_equal}
    with np.errstate(invalid="ignore"):
        met = compare[op](values, threshold).astype(np.float64)
    return np.where(np.isnan(values), np.nan, met)


def slices_ratios(goodness: np.ndarray) -> tuple[float | None, float | None]:
    """(SLI, error ratio) over slices: the mean goodness of the slices that have data."""
    goodness = np.asarray(goodness, dtype=np.float64)
    present = goodness[~np.isnan(goodness)]
    if present.size == 0:
        return None, None
    sli = float(np.sum(present)) / present.size
    return sli, 1 - sli


# -- many windows at once (backtests) ------------------------------------------------------------


def increases_between(
    timestamps_ms: np.ndarray,
    values: np.ndarray,
    starts_ms: np.ndarray,
    ends_ms: np.ndarray,
) -> np.ndarray:
    """`extrapolated_increase` of one counter series over each range [start, end] at once.

    `timestamps_ms` (sorted) and `values` are the series' samples; a range holds the samples
    with start <= t <= end, as a Prometheus 2.x range selector does. NaN where a range holds
    fewer than two samples (the series is absent there). The same steps as the one-range
    function, on arrays; resets are added back from a running sum, which equals Prometheus's
    one-at-a-time sum exactly for whole-number counters.
    """
    ts = np.asarray(timestamps_ms, dtype=np.int64)
    vs = np.asarray(values, dtype=np.float64)
    starts = np.asarray(starts_ms, dtype=np.int64)
    ends = np.asarray(ends_ms, dtype=np.int64)
    result = np.full(len(starts), np.nan)
    if len(vs) < 2 or not len(starts):
        return result
    first = np.searchsorted(ts, starts, side="left")
    last = np.searchsorted(ts, ends, side="right") - 1
    counted = last - first + 1
    ok = counted >= 2
    if not ok.any():
        return result
    first, last, counted, starts, ends = (
        first[ok],
        last[ok],
        counted[ok],
        starts[ok],
        ends[ok],
    )
    dropped = np.concatenate(([0.0], np.where(vs[1:] < vs[:-1], vs[:-1], 0.0)))
    corrections = np.cumsum(dropped)
    first_value = vs[first]
    increase = (vs[last] - first_value) + (corrections[last] - corrections[first])
    duration_to_start = (ts[first] - starts).astype(np.float64) / 1000
    duration_to_end = (ends - ts[last]).astype(np.float64) / 1000
    sampled_interval = (ts[last] - ts[first]).astype(np.float64) / 1000
    average_interval = sampled_interval / (counted - 1).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        to_zero = sampled_interval * (first_value / increase)
    zero_first = (increase > 0) & (first_value >= 0) & (to_zero < duration_to_start)
    duration_to_start = np.where(zero_first, to_zero, duration_to_start)
    threshold = average_interval * 1.1
    extrapolate_to = sampled_interval + np.where(
        duration_to_start < threshold, duration_to_start, average_interval / 2
    )
    extrapolate_to = extrapolate_to + np.where(
        duration_to_end < threshold, duration_to_end, average_interval / 2
    )
    result[ok] = increase * (extrapolate_to / sampled_interval)
    return result


def error_ratios(
    numerator: np.ndarray, total: np.ndarray, numerator_is_good: bool
) -> tuple[np.ndarray, np.ndarray]:
    """`ratios` over arrays: (SLI, error ratio) per point, NaN where there is no data."""
    numerator = np.asarray(numerator, dtype=np.float64)
    total = np.asarray(total, dtype=np.float64)
    valid = ~np.isnan(total) & (total != 0)
    counted = np.where(np.isnan(numerator), 0.0, numerator)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = counted / total
    if numerator_is_good:
        sli, error = share, 1 - share
    else:
        sli, error = 1 - share, share
    return np.where(valid, sli, np.nan), np.where(valid, error, np.nan)


# -- the low-traffic guard -------------------------------------------------------------------


def min_events_default(threshold: float, objective: float) -> int:
    """The fewest events in an alert's long window at which one bad event alone cannot raise
    the alert: with N events one bad event burns 1 / (N × budget), which must not exceed the
    threshold, so N >= 1 / (threshold × budget) (99.9 %: 70 events for the 1h page, 1,000 for
    the 3d ticket). Checked with the very operations `burn_rate` does, so that the float
    rounding of a budget such as 1 - 0.9995 cannot let one event through."""
    needed = max(1, math.ceil(1 / (threshold * (1 - objective))))
    while burn_rate(1 / needed, objective) > threshold:
        needed += 1
    return needed


def min_events_for(alert: Alert, objective: float, min_events: int | None) -> int:
    """The minimum of one alert: the SLO's own (0 turns the guard off), else the default."""
    if min_events is not None:
        return min_events
    return min_events_default(alert.burn_rate_threshold, objective)


def alerts_guarded(
    burn_rates: Mapping[str, float | None],
    period_seconds: int,
    events: Mapping[str, float | None],
    objective: float,
    min_events: int | None = None,
) -> tuple[list[Alert], list[Alert], list[Alert]]:
    """(firing, held, short): the alerts whose conditions hold with enough events in their long
    window, those held back for want of events (the low-traffic guard), and every alert
    whose long window has some events but fewer than its minimum (firing or not; a window
    without any event has no burn rate and raises nothing anyway). `events` gives the events
    per window; a window without a count (a raw ratio SLI) is not guarded."""
    firing, held, short = [], [], []
    conditions = alerts_firing(burn_rates, period_seconds)
    for alert in alert_thresholds(period_seconds):
        count = events.get(alert.long_window)
        low = count is not None and 0 < count < min_events_for(alert, objective, min_events)
        if low:
            short.append(alert)
        if alert in conditions:
            (held if low else firing).append(alert)
    return firing, held, short
