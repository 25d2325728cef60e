"""Backtests: what an SLO's alerts would have done over past history (no Django imports).

The alert rules are replayed at every minute of the past N days, with the maths of live
evaluation (slo/maths.py): the same counter increases (exact path: the samples read once, each
window's `increase()` computed at every minute as Prometheus computes it; promql path: the SLI's
own expressions evaluated by Prometheus over a range at a one-minute step), the same burn rates,
thresholds, low-traffic guard and maintenance windows. An alert's episode runs from the first to
the last minute at which its condition holds; what the guard or a maintenance window held back
is listed apart. The budget-left curve is drawn at an hourly step (and at the last minute).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from slo import maths, promql_path
from slo.definitions import (
    HELD_LOW_TRAFFIC,
    HELD_MAINTENANCE,
    NO_DATA,
    OK,
    UNAVAILABLE,
    GroupKey,
    QueryIndicator,
    RatioIndicator,
    SLODefinition,
)
from slo.engine import DEFAULT_MAX_GROUPS, SeriesIndex, combine, plan_groups, totals_per_slice
from slo.expressions import Counters
from slo.promql import Selector
from slo.sources.base import Source, SourceUnavailable
from slo.windows import kept_pieces

STEP = 60
BUDGET_STEP = 3600
MAX_DAYS = 90


class BacktestError(ValueError):
    """A backtest that cannot run as asked (the message says why)."""


def rfc3339(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Episode:
    """One alert that would have fired (or been held back): from the first to the last minute
    at which its condition held, the highest long-window burn rate meanwhile, and how much of
    the budget went (budget left the minute before it began minus budget left at its end)."""

    severity: str
    start: float
    end: float
    peak_burn: float
    group: dict[str, str] | None = None
    reason: str = ""
    budget_spent: float | None = None

    def contract(self) -> dict:
        found = {
            "severity": self.severity,
            "start": rfc3339(self.start),
            "end": rfc3339(self.end),
            "peak_burn": self.peak_burn,
        }
        if self.group is not None:
            found["group"] = dict(self.group)
        return found

    def as_dict(self) -> dict:
        found = {**self.contract(), "budget_spent": self.budget_spent}
        if self.reason:
            found["reason"] = self.reason
        return found


@dataclass
class Backtest:
    slo: str
    evaluation: str
    start: float
    end: float
    step: int = STEP
    budget_step: int = BUDGET_STEP
    alerts: list[Episode] = field(default_factory=list)
    held: list[Episode] = field(default_factory=list)
    budget_left: list[tuple[float, float | None]] = field(default_factory=list)
    maintenance: list[tuple[float, float]] = field(default_factory=list)
    data_status: str = OK
    detail: str = ""
    groups: list[dict[str, str]] = field(default_factory=list)

    def contract(self) -> dict:
        """What `slo_backtest --json` prints, with exactly the keys of the contract."""
        return {
            "slo": self.slo,
            "from": rfc3339(self.start),
            "to": rfc3339(self.end),
            "step_seconds": self.step,
            "alerts": [episode.contract() for episode in self.alerts],
            "budget_left": [[rfc3339(t), value] for t, value in self.budget_left],
        }


# -- figures over many moments ---------------------------------------------------------------


@dataclass
class Figures:
    """Per group, the events of one window at each moment: `numerator` and `total` arrays (a
    raw ratio SLI: the ratio in `numerator`, no total), NaN where there is no data, and what
    turns a total into a number of events (None when unknown)."""

    numerator: dict[GroupKey, np.ndarray]
    total: dict[GroupKey, np.ndarray] | None
    events_scale: float | None = 1.0

    def keys(self) -> set[GroupKey]:
        return set(self.numerator if self.total is None else self.total)

    def errors(self, key: GroupKey, good: bool, width: int) -> np.ndarray:
        if self.total is None:
            ratio = self.numerator.get(key, np.full(width, np.nan))
            return maths.error_ratios(ratio, np.where(np.isnan(ratio), np.nan, 1.0), good)[1]
        missing = np.full(width, np.nan)
        return maths.error_ratios(
            self.numerator.get(key, missing), self.total.get(key, missing), good
        )[1]

    def events(self, key: GroupKey, width: int) -> np.ndarray | None:
        if self.total is None or self.events_scale is None:
            return None
        return self.total.get(key, np.full(width, np.nan)) * self.events_scale

    def overall(self) -> Figures | None:
        """Every group together (events add up; ratios do not)."""
        if self.total is None:
            return None
        return Figures(
            {(): _sum_present(self.numerator.values())} if self.numerator else {},
            {(): _sum_present(self.total.values())} if self.total else {},
            self.events_scale,
        )


def _sum_present(arrays: Iterable[np.ndarray]) -> np.ndarray:
    arrays = list(arrays)
    return totals_per_slice(np.vstack(arrays)) if arrays else np.array([])


def _per_moment(values: np.ndarray, owners: np.ndarray, width: int) -> np.ndarray:
    """The values of the pieces of each moment's window added up (NaN where no piece has
    any)."""
    present = ~np.isnan(values)
    result = np.zeros(width)
    np.add.at(result, owners[present], values[present])
    seen = np.zeros(width, dtype=bool)
    seen[owners[present]] = True
    return np.where(seen, result, np.nan)


class History:
    """Reads one SLO's figures at many moments from its source, over whole windows or over
    what maintenance leaves of them."""

    def __init__(self, definition: SLODefinition, source: Source):
        self.definition = definition
        self.source = source

    def window_starts(self, ends: np.ndarray, window: float | None) -> np.ndarray:
        """Where each window ending at `ends` begins: `window` seconds before, or (None) the
        SLO window's start, which moves with a calendar window."""
        if window is not None:
            return ends - window
        slo_window = self.definition.window
        if not slo_window.is_calendar:
            return ends - slo_window.period_seconds
        return np.array(
            [slo_window.start(datetime.fromtimestamp(float(t), tz=UTC)).timestamp() for t in ends]
        )

    def prepare(self, start: float, end: float) -> None:
        """Read the exact path's samples for the whole span at once (the source keeps them),
        so that every window after reads from memory."""
        indicator = self.definition.indicator
        if not isinstance(indicator, RatioIndicator):
            return
        selectors = (*indicator.numerator.selectors, *indicator.total.selectors)
        keep = {s.metric: self.definition.group_by for s in selectors}
        for group in set(plan_groups(selectors, keep).values()):
            self.source.increases_between(group, np.array([start]), np.array([end]))

    def figures(
        self, ends: np.ndarray, window: float | None, step: int, cut: bool = True
    ) -> Figures:
        if isinstance(self.definition.indicator, RatioIndicator):
            return self.counted(ends, self.window_starts(ends, window), cut)
        return self.expressions(ends, window, step, cut)

    # -- the exact path -------------------------------------------------------------------

    def counted(self, ends: np.ndarray, starts: np.ndarray, cut: bool = True) -> Figures:
        definition = self.definition
        indicator: RatioIndicator = definition.indicator
        excluded = definition.excluded if cut else ()
        piece_starts, piece_ends, owners = kept_pieces(starts, ends, excluded)
        selectors = (*indicator.numerator.selectors, *indicator.total.selectors)
        keep = {s.metric: definition.group_by for s in selectors}
        groups = plan_groups(selectors, keep)
        by_selector: dict[Selector, dict[GroupKey, np.ndarray]] = {}
        for group in set(groups.values()):
            found = self.source.increases_between(group, piece_starts, piece_ends)
            index = SeriesIndex(group, found)
            matrix = index.matrix(found, len(piece_starts))
            for selector in (s for s, g in groups.items() if g == group):
                rows = index.rows(selector)
                by_selector[selector] = _totals(index, matrix, rows, definition.group_by)
        width = len(ends)

        def events(counters: Counters) -> dict[GroupKey, np.ndarray]:
            pieces = combine(counters, lambda selector: by_selector[selector])
            return {key: _per_moment(v, owners, width) for key, v in pieces.items()}

        return Figures(events(indicator.numerator), events(indicator.total), 1.0)

    # -- the promql path ------------------------------------------------------------------

    def expressions(
        self, ends: np.ndarray, window: float | None, step: int, cut: bool = True
    ) -> Figures:
        """Prometheus evaluates the SLI's expressions over a range at `step` when every window
        has one length; moments whose window varies (a calendar window) or is cut by
        maintenance are asked one by one, through the live path's own measurement."""
        definition = self.definition
        width = len(ends)
        lengths = ends - self.window_starts(ends, window)
        cuts = cut and window is None and promql_path.cuttable(definition.indicator)
        one_by_one = np.zeros(width, dtype=bool)
        if cuts:
            for start, stop in definition.excluded:
                one_by_one |= (ends - lengths < stop) & (ends > start)
        fixed = width > 0 and bool(np.all(lengths == lengths[0])) and float(lengths[0]) > 0
        evenly = width < 2 or bool(np.all(np.diff(ends) == step))
        if not (fixed and evenly):
            return self._moment_by_moment(ends, lengths, np.ones(width, dtype=bool), cuts)
        figures = self._ranged(ends, float(lengths[0]), step)
        if not one_by_one.any():
            return figures
        counts = _as_counts(figures)
        again = self._moment_by_moment(ends, lengths, one_by_one, cuts)
        for part in ("numerator", "total"):
            target, found = getattr(counts, part), getattr(again, part)
            for key in set(target) | set(found):
                values = target.setdefault(key, np.full(width, np.nan))
                values[one_by_one] = found.get(key, np.full(width, np.nan))[one_by_one]
        return counts

    def _ranged(self, ends: np.ndarray, length: float, step: int) -> Figures:
        indicator: QueryIndicator = self.definition.indicator
        group_by = self.definition.group_by
        texts = promql_path.queries(indicator, length)
        series = {role: self.source.range_values(text, ends, step) for role, text in texts.items()}
        if indicator.is_raw:
            ratio = promql_path.by_group_series(series["ratio"], group_by, False)
            return Figures(ratio, None, None)
        return Figures(
            promql_path.by_group_series(series["numerator"], group_by, True),
            promql_path.by_group_series(series["total"], group_by, True),
            promql_path.events_scale(indicator, length),
        )

    def _moment_by_moment(
        self, ends: np.ndarray, lengths: np.ndarray, wanted: np.ndarray, cuts: bool
    ) -> Figures:
        """Instant queries at each wanted moment. Values are kept as events where the SLI
        counts them (the pieces of a cut window are added up as events)."""
        definition = self.definition
        width = len(ends)
        raw = definition.indicator.is_raw
        numerator: dict[GroupKey, np.ndarray] = {}
        total: dict[GroupKey, np.ndarray] = {}
        counted = True
        for index in np.flatnonzero(wanted):
            moment, length = float(ends[index]), float(lengths[index])
            at = datetime.fromtimestamp(moment, tz=UTC)

            def spans(_definition, window, moment=moment, length=length):
                if not cuts:
                    return ((window, moment),)
                starts, stops, _ = kept_pieces([moment - length], [moment], definition.excluded)
                return tuple((float(e - s), float(e)) for s, e in zip(starts, stops, strict=True))

            found = promql_path.measure(
                self.source, [definition], at, lambda _d, length=length: [length], spans
            )[definition.name]
            if isinstance(found, str):
                raise SourceUnavailable(found)
            measured = found[length]
            factor = measured.events_scale
            counted = counted and factor is not None
            for values, target in ((measured.numerator, numerator), (measured.total, total)):
                for key, value in (values or {}).items():
                    scaled = value * factor if factor is not None else value
                    target.setdefault(key, np.full(width, np.nan))[index] = scaled
        if raw:
            return Figures(numerator, None, None)
        return Figures(numerator, total, 1.0 if counted else None)


def _as_counts(figures: Figures) -> Figures:
    """The same figures with totals (and numerators) as numbers of events."""
    scale = figures.events_scale
    if figures.total is None or scale is None or scale == 1.0:
        return Figures(dict(figures.numerator), figures.total and dict(figures.total), scale)
    return Figures(
        {key: values * scale for key, values in figures.numerator.items()},
        {key: values * scale for key, values in figures.total.items()},
        1.0,
    )


def _totals(
    index: SeriesIndex, matrix: np.ndarray, rows: np.ndarray, labels: tuple[str, ...]
) -> dict[GroupKey, np.ndarray]:
    """Per value of `labels`, the rows of the matrix added up per column (NaN where none of
    them has a value)."""
    if not labels:
        found = totals_per_slice(matrix[rows]) if len(rows) else np.array([])
        return {(): found} if len(rows) and not np.all(np.isnan(found)) else {}
    positions = [index.group.by.index(label) for label in labels]
    by_key: dict[GroupKey, list[int]] = {}
    for row in rows:
        by_key.setdefault(tuple(index.keys[row][p] for p in positions), []).append(row)
    return {key: totals_per_slice(matrix[members]) for key, members in by_key.items()}


# -- alerts from figures -------------------------------------------------------------------------


def runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) index of each run of True."""
    padded = np.concatenate(([0], flags.astype(np.int8), [0]))
    edges = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b) - 1) for a, b in zip(edges[::2], edges[1::2], strict=True)]


@dataclass
class Replay:
    """The alerts of one group (or of an SLO that is not grouped) at every moment."""

    firing: dict[str, np.ndarray]  # severity -> fires at each moment
    held_low: dict[str, np.ndarray]
    held_maintenance: dict[str, np.ndarray]
    peak: dict[str, np.ndarray]  # severity -> highest long burn of the pairs that hold
    held_peak: dict[str, np.ndarray]


def replay(
    definition: SLODefinition,
    moments: np.ndarray,
    burns: dict[str, np.ndarray],
    events: dict[str, np.ndarray | None],
) -> Replay:
    """Which alerts fire, and which are held back, at each moment: the conditions of
    maths.alerts_guarded, on arrays."""
    width = len(moments)
    period = definition.window.period_seconds
    maintenance = np.zeros(width, dtype=bool)
    for start, end in definition.excluded:
        maintenance |= (moments >= start) & (moments < end)
    result = Replay({}, {}, {}, {}, {})
    for severity in ("page", "ticket"):
        fires = np.zeros(width, dtype=bool)
        holds_any = np.zeros(width, dtype=bool)
        low_any = np.zeros(width, dtype=bool)
        peak = np.full(width, -np.inf)
        held_peak = np.full(width, -np.inf)
        for alert in maths.alert_thresholds(period):
            if alert.severity != severity:
                continue
            threshold = alert.burn_rate_threshold
            long_burn, short_burn = burns[alert.long_window], burns[alert.short_window]
            with np.errstate(invalid="ignore"):
                holds = (long_burn > threshold) & (short_burn > threshold)
            count = events.get(alert.long_window)
            needed = maths.min_events_for(alert, definition.objective, definition.min_events)
            with np.errstate(invalid="ignore"):
                low = (
                    np.zeros(width, dtype=bool)
                    if count is None
                    else (~np.isnan(count) & (count > 0) & (count < needed))
                )
            pair_fires = holds & ~low & ~maintenance
            fires |= pair_fires
            holds_any |= holds
            low_any |= holds & low
            peak = np.where(pair_fires, np.fmax(peak, long_burn), peak)
            held_peak = np.where(holds & ~pair_fires, np.fmax(held_peak, long_burn), held_peak)
        result.firing[severity] = fires
        result.held_low[severity] = low_any & ~fires & ~maintenance
        result.held_maintenance[severity] = holds_any & maintenance
        result.peak[severity] = peak
        result.held_peak[severity] = held_peak
    return result


def episodes(
    moments: np.ndarray, flags: np.ndarray, peaks: np.ndarray, severity: str, **extra
) -> list[Episode]:
    return [
        Episode(
            severity,
            float(moments[a]),
            float(moments[b]),
            float(np.max(peaks[a : b + 1])),
            **extra,
        )
        for a, b in runs(flags)
    ]


# -- the whole backtest ----------------------------------------------------------------------


def timeline(end: float, days: float, step: int = STEP) -> np.ndarray:
    """Every step from `days` before `end` to `end` (both included), on whole steps."""
    last = math.floor(end / step) * step
    count = int(round(days * 86400 / step))
    return last - step * np.arange(count, -1, -1, dtype=np.int64)


def budget_moments(moments: np.ndarray, budget_step: int) -> np.ndarray:
    """Hourly points ending at the last moment."""
    last, first = float(moments[-1]), float(moments[0])
    count = int((last - first) // budget_step)
    return last - budget_step * np.arange(count, -1, -1, dtype=np.float64)


def run_backtest(
    definition: SLODefinition,
    source: Source,
    *,
    end: float,
    days: float = 30,
    step: int = STEP,
    budget_step: int = BUDGET_STEP,
    max_groups: int = DEFAULT_MAX_GROUPS,
) -> Backtest:
    """Replay `definition`'s alerts at every `step` over the `days` before `end`."""
    if not 0 < days <= MAX_DAYS:
        raise BacktestError(f"a backtest covers 1 to {MAX_DAYS} days")
    if definition.is_sliced:
        raise BacktestError(
            "backtests replay Occurrences SLOs; an SLO budgeted in time slices is not replayed"
        )
    moments = timeline(end, days, step).astype(np.float64)
    result = Backtest(
        definition.name,
        definition.evaluation,
        float(moments[0]),
        float(moments[-1]),
        step,
        budget_step,
        maintenance=[(a, b) for a, b in definition.excluded if a < moments[-1] and b > moments[0]],
    )
    history = History(definition, source)
    hourly = budget_moments(moments, budget_step)
    earliest = min(
        float(moments[0]) - max(maths.BURN_WINDOWS.values()),
        float(history.window_starts(hourly[:1], None)[0]),
    )
    try:
        history.prepare(earliest, float(moments[-1]))
        by_window = {
            label: history.figures(moments, float(seconds), step)
            for label, seconds in maths.BURN_WINDOWS.items()
        }
        slo_window = history.figures(hourly, None, budget_step)
    except SourceUnavailable as exc:
        result.data_status, result.detail = UNAVAILABLE, str(exc)
        return result
    except promql_path.SeveralSeries as exc:
        result.data_status, result.detail = UNAVAILABLE, str(exc)
        return result
    keys = sorted(set().union(*(f.keys() for f in by_window.values()), slo_window.keys()))
    if definition.group_by and len(keys) > max_groups:
        result.data_status = UNAVAILABLE
        result.detail = f"the SLI gives {len(keys)} groups, more than the {max_groups} allowed"
        return result
    if not keys:
        result.data_status, result.detail = NO_DATA, "no events in any window of the backtest"
        return result
    good = definition.indicator.numerator_is_good
    width = len(moments)
    for key in keys if definition.group_by else [()]:
        group = definition.group_labels(key) if definition.group_by else None
        if group is not None:
            result.groups.append(group)
        burns = {
            label: maths.burn_rate(figures.errors(key, good, width), definition.objective)
            for label, figures in by_window.items()
        }
        events = {label: figures.events(key, width) for label, figures in by_window.items()}
        replayed = replay(definition, moments, burns, events)
        for severity in ("page", "ticket"):
            result.alerts += episodes(
                moments, replayed.firing[severity], replayed.peak[severity], severity, group=group
            )
            for reason, flags in (
                (HELD_LOW_TRAFFIC, replayed.held_low[severity]),
                (HELD_MAINTENANCE, replayed.held_maintenance[severity]),
            ):
                result.held += episodes(
                    moments,
                    flags,
                    replayed.held_peak[severity],
                    severity,
                    group=group,
                    reason=reason,
                )
    overall = slo_window.overall() if definition.group_by else slo_window
    if overall is not None:
        errors = overall.errors((), good, len(hourly))
        left = maths.budget_remaining(errors, definition.objective)
        result.budget_left = [
            (float(t), None if math.isnan(v) else float(v))
            for t, v in zip(hourly, left, strict=True)
        ]
    elif definition.group_by:
        result.detail = "a ratio SLI has a budget per group only: no overall budget curve"
    _budget_spent(result, history, definition, step)
    result.alerts.sort(key=lambda e: (e.start, e.severity))
    result.held.sort(key=lambda e: (e.start, e.severity))
    return result


def _budget_spent(result: Backtest, history: History, definition: SLODefinition, step: int) -> None:
    """Budget left the minute before each alert began, minus budget left at its end."""
    if not result.alerts:
        return
    points = sorted({e.start - step for e in result.alerts} | {e.end for e in result.alerts})
    ends = np.array(points, dtype=np.float64)
    try:
        figures = history.figures(ends, None, step)
    except (SourceUnavailable, promql_path.SeveralSeries):
        return
    position = {t: i for i, t in enumerate(points)}
    good = definition.indicator.numerator_is_good
    spent = []
    for episode in result.alerts:
        key = tuple(episode.group[label] for label in definition.group_by) if episode.group else ()
        left = maths.budget_remaining(figures.errors(key, good, len(points)), definition.objective)
        before, after = left[position[episode.start - step]], left[position[episode.end]]
        value = None if math.isnan(before) or math.isnan(after) else float(before - after)
        spent.append(
            Episode(
                episode.severity,
                episode.start,
                episode.end,
                episode.peak_burn,
                episode.group,
                episode.reason,
                value,
            )
        )
    result.alerts = spent


def compare(backtest: Iterable[Episode], real: Iterable[tuple[str, float, float]]) -> list[dict]:
    """Each backtest alert beside the real alerts of the same severity that overlap it."""
    real = list(real)
    found = []
    for episode in backtest:
        matched = [
            (severity, start, end)
            for severity, start, end in real
            if severity == episode.severity and start <= episode.end and end >= episode.start
        ]
        found.append({**episode.as_dict(), "really_fired": bool(matched)})
    return found
