"""Evaluate many SLOs at once, batched (no Django imports).

Each SLI takes one of two paths, chosen at import (expressions.py):

- exact: counters SSOps counts itself. SLOs whose selectors share a metric form one
  `CounterGroup`, one question to the source for all its windows: the matchers every selector
  shares are pushed into the query, a union of the values they select narrows it further, and
  the series come back summed `by` the labels the selectors (and the SLOs' groupings) still
  need. Each selector then adds up the series it matches, here, with Prometheus's own matching
  rules. Because `increase()` is computed per series before any sum, the totals equal
  `sum(increase(selector[w]))` for every selector.
- promql: Prometheus evaluates each distinct expression over each window (promql_path.py), one
  question per expression for all its windows.

A window that maintenance cuts is measured over its pieces, each a span (length, end) with its
increase taken at its own end, and the pieces' events are added up. Spans that end at the same
moment are asked together (without maintenance, every span ends at the run's moment).

Both paths give the same thing — per SLO and window, the events (or a ratio) by group — through
`measure()`, which works at any moment and for any windows; `evaluate()` turns those into SLIs,
budgets, burn rates and alerts.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial

import numpy as np

from slo import maths, promql_path
from slo.definitions import (
    HELD_LOW_TRAFFIC,
    HELD_MAINTENANCE,
    LOW_TRAFFIC,
    MEASURED,
    NO_DATA,
    OK,
    TIMESLICES,
    UNAVAILABLE,
    Evaluation,
    GroupKey,
    HeldAlert,
    Measured,
    QueryIndicator,
    RatioIndicator,
    SLODefinition,
    SourceKey,
    ThresholdIndicator,
)
from slo.expressions import Counters
from slo.promql import Selector, union_matcher
from slo.sources.base import (
    CounterGroup,
    SeriesKey,
    Source,
    SourceUnavailable,
    Span,
    increases_of_groups,
)
from slo.windows import kept_pieces

BURN_SECONDS = tuple(maths.BURN_WINDOWS.values())
LONGEST_BURN = max(BURN_SECONDS)
DEFAULT_MAX_GROUPS = 500


Measurements = dict[str, dict[float, Measured] | str]


def combine(counters: Counters, values_of: Callable[[Selector], dict[GroupKey, float]]) -> dict:
    """Counter terms added and subtracted, per group; a group lacking one term is absent, as
    PromQL arithmetic drops a series without a match."""
    parts = [(term.sign, values_of(term.selector)) for term in counters.terms]
    keys = set.intersection(*(set(values) for _, values in parts))
    return {key: sum(sign * values[key] for sign, values in parts) for key in keys}


def plan_groups(
    selectors: Iterable[Selector], keep: Mapping[str, Iterable[str]] | None = None
) -> dict[Selector, CounterGroup]:
    """The query group of each selector: one per metric, its series summed by the labels the
    selectors need and those in `keep` (per metric: the labels SLOs are grouped by)."""
    by_metric: dict[str, set[Selector]] = defaultdict(set)
    for selector in selectors:
        by_metric[selector.metric].add(selector)
    plan = {}
    for metric, members in by_metric.items():
        common = set.intersection(*(set(s.matchers) for s in members))
        pushed = set(common)
        by = set((keep or {}).get(metric, ()))
        for name in sorted(set().union(*(s.label_names for s in members))):
            own = [[m for m in s.matchers if m.name == name] for s in members]
            if all(set(matchers) <= common for matchers in own):
                continue  # the query itself applies every matcher on this label
            by.add(name)
            positives = [[m for m in matchers if m.positive] for matchers in own]
            if all(positives):
                pushed.add(union_matcher(name, [p[0] for p in positives]))
        group = CounterGroup(metric, tuple(sorted(pushed)), tuple(sorted(by)))
        for selector in members:
            plan[selector] = group
    return plan


class SeriesIndex:
    """The series keys one group returned, indexed by label value for fast selector matching."""

    def __init__(self, group: CounterGroup, keys: Iterable[SeriesKey]):
        self.group = group
        self.keys = sorted(set(keys))
        self.position = {key: row for row, key in enumerate(self.keys)}
        self.by_value: list[dict[str, set[int]]] = [defaultdict(set) for _ in group.by]
        for row, key in enumerate(self.keys):
            for column, value in enumerate(key):
                self.by_value[column][value].add(row)

    def rows(self, selector: Selector) -> np.ndarray:
        rows = set(range(len(self.keys)))
        for matcher in selector.matchers:
            if matcher.name not in self.group.by:
                continue
            values = self.by_value[self.group.by.index(matcher.name)]
            if matcher.op == "=":
                found = values.get(matcher.value, set())
            else:
                found = set().union(*(r for v, r in values.items() if matcher.matches(v)))
            rows &= found
        return np.array(sorted(rows), dtype=np.int64)

    def totals(self, column: np.ndarray, rows: np.ndarray, labels: Sequence[str]) -> dict:
        """The sum of the given rows of a column by the values of `labels` (by () when none),
        over the series present; a key with no series present is absent."""
        if not labels:
            total = total_of(column[rows])
            return {} if total is None else {(): total}
        positions = [self.group.by.index(label) for label in labels]
        found: dict[GroupKey, float] = defaultdict(float)
        for row in rows:
            value = column[row]
            if not math.isnan(value):
                found[tuple(self.keys[row][p] for p in positions)] += float(value)
        return dict(found)

    def totals_by_span(
        self, matrix: np.ndarray, rows: np.ndarray, spans: Sequence[Span]
    ) -> dict[Span, dict]:
        """`totals(column, rows, ())` of each column of the matrix (one per span), at once."""
        chosen = matrix[rows]
        present = ~np.isnan(chosen)
        sums = np.where(present, chosen, 0.0).sum(axis=0)
        found = present.any(axis=0)
        return {
            span: {(): float(sums[number])} if found[number] else {}
            for number, span in enumerate(spans)
        }

    def column(self, values: dict[SeriesKey, float]) -> np.ndarray:
        column = np.full(len(self.keys), np.nan)
        for key, value in values.items():
            column[self.position[key]] = value
        return column

    def matrix(self, values: dict[SeriesKey, np.ndarray], width: int) -> np.ndarray:
        matrix = np.full((len(self.keys), width), np.nan)
        for key, row in values.items():
            matrix[self.position[key]] = row
        return matrix


def total_of(values: np.ndarray) -> float | None:
    """The sum of the series present; None when none is (no data, not zero)."""
    present = values[~np.isnan(values)]
    return float(np.sum(present)) if present.size else None


def totals_per_slice(matrix: np.ndarray) -> np.ndarray:
    """Per slice, the sum of the series present; NaN when none is."""
    present = ~np.isnan(matrix)
    sums = np.where(present, matrix, 0.0).sum(axis=0)
    return np.where(present.any(axis=0), sums, np.nan)


@dataclass
class Run:
    """One evaluation of many SLOs at one moment."""

    at: datetime
    max_groups: int = DEFAULT_MAX_GROUPS

    def window_seconds(self, definition: SLODefinition) -> float:
        return self.at.timestamp() - definition.window.start(self.at).timestamp()

    def windows(self, definition: SLODefinition) -> set[float]:
        """The SLO window and every burn-rate window, in seconds."""
        return {*BURN_SECONDS, self.window_seconds(definition)}

    def spans(self, definition: SLODefinition, window: float) -> tuple[Span, ...]:
        """The pieces (length, end) that measure one window ending at this run's moment: the
        window itself, or what maintenance windows leave of it."""
        at = self.at.timestamp()
        if not definition.excluded or window <= 0:
            return ((window, at),)
        starts, ends, _ = kept_pieces([at - window], [at], definition.excluded)
        return tuple((float(e - s), float(e)) for s, e in zip(starts, ends, strict=True))

    def promql_spans(self, definition: SLODefinition, window: float) -> tuple[Span, ...]:
        """On the promql path maintenance is cut out of the SLO window only, and only from SLIs
        whose events add up over pieces (docs/slos.md, "Planned maintenance")."""
        if window == self.window_seconds(definition) and promql_path.cuttable(definition.indicator):
            return self.spans(definition, window)
        return ((window, self.at.timestamp()),)

    def measure_counters(
        self,
        source: Source,
        definitions: Sequence[SLODefinition],
        windows_of: Callable[[SLODefinition], Iterable[float]],
    ) -> Measurements:
        """The exact path: counter increases of every SLO over its windows, by group, with one
        question per metric for all its windows (and the pieces of a window that maintenance
        leaves), every metric asked at once."""
        wanted: dict[Selector, set[Span]] = defaultdict(set)
        groupings: dict[Selector, set[tuple[str, ...]]] = defaultdict(set)
        keep: dict[str, set[str]] = defaultdict(set)
        for definition in definitions:
            own = {span for w in windows_of(definition) for span in self.spans(definition, w)}
            for selector in _selectors(definition.indicator):
                wanted[selector] |= own
                groupings[selector].add(definition.group_by)
                keep[selector.metric].update(definition.group_by)
        members: dict[CounterGroup, list[Selector]] = defaultdict(list)
        for selector, group in plan_groups(wanted, keep).items():
            members[group].append(selector)
        values: dict[tuple[Selector, tuple[str, ...], Span], dict[GroupKey, float]] = {}
        failures: dict[Selector, str] = {}
        spans_of_group = {
            group: sorted(
                span for span in set().union(*(wanted[s] for s in selectors)) if span[0] > 0
            )
            for group, selectors in members.items()
        }
        answers = increases_of_groups(source, spans_of_group)
        for group, selectors in members.items():
            found = answers[group]
            if isinstance(found, SourceUnavailable):
                failures.update(dict.fromkeys(selectors, str(found)))
                continue
            index = SeriesIndex(group, (key for values in found.values() for key in values))
            asked = list(found)
            position = {span: number for number, span in enumerate(asked)}
            matrix = np.column_stack([index.column(found[s]) for s in asked]) if asked else None
            for selector in selectors:
                rows = index.rows(selector)
                totals = {} if matrix is None else index.totals_by_span(matrix, rows, asked)
                for span in wanted[selector]:
                    for labels in groupings[selector]:
                        if span not in found:  # an empty window: no query, no data
                            values[selector, labels, span] = {}
                        elif labels:
                            column = matrix[:, position[span]]
                            values[selector, labels, span] = index.totals(column, rows, labels)
                        else:
                            values[selector, labels, span] = totals[span]
        measured: Measurements = {}
        for definition in definitions:
            indicator = definition.indicator
            failed = [failures[s] for s in _selectors(indicator) if s in failures]
            if failed:
                measured[definition.name] = failed[0]
                continue

            def events(counters: Counters, window: float, definition=definition) -> dict:
                group_by = definition.group_by
                return add_up(
                    combine(counters, partial(_values_at, values, group_by, span))
                    for span in self.spans(definition, window)
                )

            measured[definition.name] = {
                window: Measured(
                    events(indicator.numerator, window), events(indicator.total, window)
                )
                for window in windows_of(definition)
            }
        return measured

    def conclude(
        self, definition: SLODefinition, measured: dict[float, Measured] | str
    ) -> Evaluation:
        """The evaluation of one SLO from its measurements (one per group when grouped)."""
        if isinstance(measured, str):
            return self.unavailable(definition, measured)
        if not definition.group_by:
            return self._figures(definition, measured, ())
        keys = set().union(*(m.keys() for m in measured.values()))
        if len(keys) > self.max_groups:
            return self.unavailable(
                definition,
                f"the SLI gives {len(keys)} groups, more than the {self.max_groups} allowed "
                "(setting SSOPS_SLO_MAX_GROUPS): group by fewer labels, or raise the limit",
            )
        groups = [self._figures(definition, measured, key) for key in sorted(keys)]
        overall = {window: m.overall() for window, m in measured.items()}
        if all(m is not None for m in overall.values()):
            evaluation = self._figures(definition, overall, None)
            evaluation.alerts = []  # each group alerts on its own
        else:  # ratios of groups do not add up: the definition has figures per group only
            any_ok = any(g.data_status in MEASURED for g in groups)
            evaluation = self.finish(definition, None, None, {})
            evaluation.data_status = OK if any_ok else NO_DATA
            evaluation.detail = "a ratio SLI has figures per group only"
        evaluation.groups = groups
        return evaluation

    def _figures(
        self, definition: SLODefinition, measured: dict[float, Measured], key: GroupKey | None
    ) -> Evaluation:
        """SLI, budget and burn rates of one group (`key`), or of the definition (None)."""
        good = definition.indicator.numerator_is_good
        row = () if key is None else key
        sli, error_ratio = measured[self.window_seconds(definition)].ratios(row, good)
        errors = {
            label: measured[seconds].ratios(row, good)[1]
            for label, seconds in maths.BURN_WINDOWS.items()
        }
        events = {
            label: measured[seconds].events(row) for label, seconds in maths.BURN_WINDOWS.items()
        }
        evaluation = self.finish(definition, sli, error_ratio, errors, events)
        if key is not None and definition.group_by:
            evaluation.name = definition.group_name(key)
            evaluation.group = definition.group_labels(key)
        return evaluation

    def slice_ends(self, definition: SLODefinition) -> tuple[np.ndarray, int]:
        """Aligned slice ends covering the SLO window and the longest burn window, and how many
        of the last ones fall inside the SLO window."""
        step = definition.timeslice_seconds
        at = self.at.timestamp()
        start = min(definition.window.start(self.at).timestamp(), at - LONGEST_BURN)
        last = math.floor(at / step) * step
        first = math.floor(start / step) * step + step
        ends = np.arange(first, last + 1, step, dtype=np.int64)
        inside = int(np.sum(ends > at - self.window_seconds(definition)))
        return ends, inside

    def goodness(
        self, source: Source, definitions: Sequence[SLODefinition]
    ) -> dict[str, np.ndarray | str]:
        """Per sliced SLO, the goodness of each slice (or the reason the source failed)."""
        result: dict[str, np.ndarray | str] = {}
        ratio = [d for d in definitions if isinstance(d.indicator, RatioIndicator)]
        for definition in definitions:
            if isinstance(definition.indicator, QueryIndicator):
                result[definition.name] = (
                    "time slices are counted from counters or a threshold metric; an SLI "
                    "Prometheus evaluates per window is budgeted in Occurrences"
                )
            if isinstance(definition.indicator, ThresholdIndicator):
                ends, _ = self.slice_ends(definition)
                indicator = definition.indicator
                try:
                    values = source.slice_values(indicator.query, ends)
                except SourceUnavailable as exc:
                    result[definition.name] = str(exc)
                    continue
                result[definition.name] = maths.threshold_goodness(
                    values, indicator.op, indicator.threshold
                )
        by_step: dict[int, list[SLODefinition]] = defaultdict(list)
        for definition in ratio:
            by_step[definition.timeslice_seconds].append(definition)
        for step, same_step in by_step.items():
            result.update(self._ratio_goodness(source, step, same_step))
        return result

    def _ratio_goodness(
        self, source: Source, step: int, definitions: Sequence[SLODefinition]
    ) -> dict[str, np.ndarray | str]:
        ends = max((self.slice_ends(d)[0] for d in definitions), key=len)
        selectors = {s for d in definitions for s in _selectors(d.indicator)}
        per_slice: dict[Selector, np.ndarray | str] = {}
        members: dict[CounterGroup, list[Selector]] = defaultdict(list)
        for selector, group in plan_groups(selectors).items():
            members[group].append(selector)
        for group, grouped in members.items():
            try:
                found = source.slice_increases(group, step, ends)
            except SourceUnavailable as exc:
                per_slice.update(dict.fromkeys(grouped, str(exc)))
                continue
            index = SeriesIndex(group, found)
            matrix = index.matrix(found, len(ends))
            for selector in grouped:
                per_slice[selector] = totals_per_slice(matrix[index.rows(selector)])
        result: dict[str, np.ndarray | str] = {}
        for definition in definitions:
            indicator = definition.indicator
            failed = [per_slice[s] for s in _selectors(indicator) if isinstance(per_slice[s], str)]
            if failed:
                result[definition.name] = failed[0]
                continue
            numerator = _slices_of(indicator.numerator, per_slice)
            total = _slices_of(indicator.total, per_slice)
            width = len(self.slice_ends(definition)[0])
            target = definition.timeslice_target if definition.budgeting == TIMESLICES else None
            result[definition.name] = maths.slice_goodness(
                numerator[-width:], total[-width:], indicator.numerator_is_good, target
            )
        return result

    def finish(
        self,
        definition: SLODefinition,
        sli: float | None,
        error_ratio: float | None,
        window_errors: dict[str, float | None],
        window_events: dict[str, float | None] | None = None,
    ) -> Evaluation:
        objective = definition.objective
        period = definition.window.period_seconds
        burn_rates = {
            label: maths.burn_rate(window_errors.get(label), objective)
            for label in maths.BURN_WINDOWS
        }
        remaining = maths.budget_remaining(error_ratio, objective)
        firing, low, short = maths.alerts_guarded(
            burn_rates, period, window_events or {}, objective, definition.min_events
        )
        held = [HeldAlert(alert, HELD_LOW_TRAFFIC) for alert in low]
        detail = ""
        if firing and definition.in_maintenance(self.at.timestamp()):
            held += [HeldAlert(alert, HELD_MAINTENANCE) for alert in firing]
            firing = []
        status = NO_DATA if error_ratio is None else (LOW_TRAFFIC if short else OK)
        if status == LOW_TRAFFIC:
            detail = low_traffic_detail(definition, short, window_events or {})
        return Evaluation(
            name=definition.name,
            service=definition.service,
            objective=objective,
            window=definition.window.label,
            at=self.at,
            data_status=status,
            sli=sli,
            error_budget_remaining=remaining,
            burn_rates=burn_rates,
            alerts=firing,
            time_to_exhaustion=maths.time_to_exhaustion(remaining, burn_rates["1h"], period),
            detail=detail,
            evaluation=definition.evaluation,
            group={} if definition.group_by else None,
            held=held,
        )

    def unavailable(self, definition: SLODefinition, detail: str) -> Evaluation:
        return Evaluation(
            name=definition.name,
            service=definition.service,
            objective=definition.objective,
            window=definition.window.label,
            at=self.at,
            data_status=UNAVAILABLE,
            detail=detail,
            evaluation=definition.evaluation,
            group={} if definition.group_by else None,
        )

    def evaluate_sliced(
        self, source: Source, definitions: Sequence[SLODefinition]
    ) -> list[Evaluation]:
        goodness = self.goodness(source, definitions)
        evaluations = []
        for definition in definitions:
            slices = goodness[definition.name]
            if isinstance(slices, str):
                evaluations.append(self.unavailable(definition, slices))
                continue
            _, inside = self.slice_ends(definition)
            sli, error_ratio = maths.slices_ratios(slices[len(slices) - inside :])
            errors = {}
            for label, seconds in maths.BURN_WINDOWS.items():
                count = seconds // definition.timeslice_seconds
                errors[label] = maths.slices_ratios(slices[-count:])[1] if count else None
            evaluations.append(self.finish(definition, sli, error_ratio, errors))
        return evaluations


def add_up(parts: Iterable[dict[GroupKey, float]]) -> dict[GroupKey, float]:
    """Events of the pieces of one window added up per group (a group absent from every piece
    is absent)."""
    parts = list(parts)
    if len(parts) == 1:
        return parts[0]
    total: dict[GroupKey, float] = {}
    for part in parts:
        for key, value in part.items():
            total[key] = total.get(key, 0.0) + value
    return total


def low_traffic_detail(
    definition: SLODefinition, short: Sequence[maths.Alert], events: dict[str, float | None]
) -> str:
    """Which alerts the guard holds back, and why (for the data status)."""
    parts = []
    for alert in short:
        needed = maths.min_events_for(alert, definition.objective, definition.min_events)
        count = events.get(alert.long_window) or 0
        parts.append(
            f"{alert.severity} {alert.long_window}/{alert.short_window} needs {needed} events "
            f"in {alert.long_window} ({count:.0f} seen)"
        )
    return "low traffic: " + "; ".join(parts) + " — those alerts do not fire"


def _values_at(values: dict, group_by: tuple[str, ...], span: Span, selector: Selector) -> dict:
    return values[selector, group_by, span]


def _selectors(indicator: RatioIndicator) -> tuple[Selector, ...]:
    return (*indicator.numerator.selectors, *indicator.total.selectors)


def _slices_of(counters: Counters, per_slice: dict[Selector, np.ndarray]) -> np.ndarray:
    """Per slice, the counter terms added and subtracted (NaN where a term has no data)."""
    return sum(term.sign * per_slice[term.selector] for term in counters.terms)


def _by_path(definitions: Sequence[SLODefinition]) -> tuple[list, list, list]:
    """(time-sliced, counted on the exact path, expressions on the promql path)."""
    sliced, counted, expressions = [], [], []
    for definition in definitions:
        if definition.is_sliced:
            sliced.append(definition)
        elif isinstance(definition.indicator, RatioIndicator):
            counted.append(definition)
        else:
            expressions.append(definition)
    return sliced, counted, expressions


def _by_source(
    definitions: Sequence[SLODefinition], source_for: Callable[[SourceKey], Source]
) -> Iterator[tuple[Source | SourceUnavailable, list[SLODefinition]]]:
    """The definitions of each data source, with the source (or why it cannot be built)."""
    by_source: dict[SourceKey, list[SLODefinition]] = defaultdict(list)
    for definition in definitions:
        by_source[definition.source].append(definition)
    for key, same_source in by_source.items():
        try:
            yield source_for(key), same_source
        except SourceUnavailable as exc:
            yield exc, same_source


def measure(
    definitions: Sequence[SLODefinition],
    at: datetime,
    source_for: Callable[[SourceKey], Source],
    windows_of: Callable[[SLODefinition], Iterable[float]],
) -> Measurements:
    """The events (or ratio) of each Occurrences SLO by window and group at `at`, for the
    windows (seconds) that `windows_of` gives it; or why its source could not answer."""
    run = Run(at)
    measured: Measurements = {}
    for source, same_source in _by_source(definitions, source_for):
        if isinstance(source, SourceUnavailable):
            measured.update(dict.fromkeys((d.name for d in same_source), str(source)))
            continue
        _, counted, expressions = _by_path(same_source)
        measured.update(run.measure_counters(source, counted, windows_of))
        measured.update(promql_path.measure(source, expressions, at, windows_of, run.promql_spans))
    return measured


def evaluate(
    definitions: Sequence[SLODefinition],
    at: datetime,
    source_for: Callable[[SourceKey], Source],
    *,
    max_groups: int = DEFAULT_MAX_GROUPS,
) -> list[Evaluation]:
    """Evaluate every definition at `at`; the result keeps the order of `definitions`, one
    evaluation per definition (a grouped one holds its groups')."""
    run = Run(at, max_groups)
    done: dict[str, Evaluation] = {}
    for source, same_source in _by_source(definitions, source_for):
        if isinstance(source, SourceUnavailable):
            done.update({d.name: run.unavailable(d, str(source)) for d in same_source})
            continue
        sliced, counted, expressions = _by_path(same_source)
        measured = {
            **run.measure_counters(source, counted, run.windows),
            **promql_path.measure(source, expressions, at, run.windows, run.promql_spans),
        }
        for definition in (*counted, *expressions):
            done[definition.name] = run.conclude(definition, measured[definition.name])
        for evaluation in run.evaluate_sliced(source, sliced):
            done[evaluation.name] = evaluation
    return [done[d.name] for d in definitions]
