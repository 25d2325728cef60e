"""Evaluate many SLOs at once, with one query per metric and window (no Django imports).

SLOs whose selectors share a metric form one `CounterGroup`: the matchers every selector shares
are pushed into the query, a union of the values they select narrows it further, and the series
come back summed `by` the labels the selectors still need. Each selector then adds up the series
it matches, here, with Prometheus's own matching rules. Because `increase()` is computed per
series before any sum, the totals equal `sum(increase(selector[w]))` for every selector.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from slo import maths
from slo.definitions import (
    NO_DATA,
    OK,
    TIMESLICES,
    UNAVAILABLE,
    Evaluation,
    RatioIndicator,
    SLODefinition,
    SourceKey,
    ThresholdIndicator,
)
from slo.promql import Selector, union_matcher
from slo.sources.base import CounterGroup, SeriesKey, Source, SourceUnavailable

BURN_SECONDS = tuple(maths.BURN_WINDOWS.values())
LONGEST_BURN = max(BURN_SECONDS)


def plan_groups(selectors: Iterable[Selector]) -> dict[Selector, CounterGroup]:
    """The query group of each selector: one per metric."""
    by_metric: dict[str, set[Selector]] = defaultdict(set)
    for selector in selectors:
        by_metric[selector.metric].add(selector)
    plan = {}
    for metric, members in by_metric.items():
        common = set.intersection(*(set(s.matchers) for s in members))
        pushed = set(common)
        by = set()
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

    def window_seconds(self, definition: SLODefinition) -> float:
        return self.at.timestamp() - definition.window.start(self.at).timestamp()

    def counts(
        self, source: Source, definitions: Sequence[SLODefinition]
    ) -> tuple[dict[tuple[Selector, float], float | None], dict[Selector, str]]:
        """Counter increases for every selector over every window its SLOs need."""
        wanted: dict[Selector, set[float]] = defaultdict(set)
        for definition in definitions:
            own = {*BURN_SECONDS, self.window_seconds(definition)}
            wanted[definition.indicator.numerator] |= own
            wanted[definition.indicator.total] |= own
        members: dict[CounterGroup, list[Selector]] = defaultdict(list)
        for selector, group in plan_groups(wanted).items():
            members[group].append(selector)
        counts: dict[tuple[Selector, float], float | None] = {}
        failures: dict[Selector, str] = {}
        for group, selectors in members.items():
            windows = sorted(set().union(*(wanted[s] for s in selectors)))
            try:
                found = source.increases(group, [w for w in windows if w > 0], self.at)
            except SourceUnavailable as exc:
                failures.update(dict.fromkeys(selectors, str(exc)))
                continue
            index = SeriesIndex(group, (key for values in found.values() for key in values))
            columns = {w: index.column(values) for w, values in found.items()}
            for selector in selectors:
                rows = index.rows(selector)
                for window in wanted[selector]:
                    column = columns.get(window)
                    counts[selector, window] = None if column is None else total_of(column[rows])
        return counts, failures

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
        selectors = {s for d in definitions for s in (d.indicator.numerator, d.indicator.total)}
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
            numerator, total = per_slice[indicator.numerator], per_slice[indicator.total]
            failed = next((x for x in (numerator, total) if isinstance(x, str)), None)
            if failed is not None:
                result[definition.name] = failed
                continue
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
    ) -> Evaluation:
        objective = definition.objective
        period = definition.window.period_seconds
        burn_rates = {
            label: maths.burn_rate(window_errors.get(label), objective)
            for label in maths.BURN_WINDOWS
        }
        remaining = maths.budget_remaining(error_ratio, objective)
        return Evaluation(
            name=definition.name,
            service=definition.service,
            objective=objective,
            window=definition.window.label,
            at=self.at,
            data_status=OK if error_ratio is not None else NO_DATA,
            sli=sli,
            error_budget_remaining=remaining,
            burn_rates=burn_rates,
            alerts=maths.alerts_firing(burn_rates, period),
            time_to_exhaustion=maths.time_to_exhaustion(remaining, burn_rates["1h"], period),
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
        )

    def evaluate_occurrences(
        self, source: Source, definitions: Sequence[SLODefinition]
    ) -> list[Evaluation]:
        counts, failures = self.counts(source, definitions)
        evaluations = []
        for definition in definitions:
            indicator = definition.indicator
            failed = failures.get(indicator.numerator) or failures.get(indicator.total)
            if failed:
                evaluations.append(self.unavailable(definition, failed))
                continue

            def ratios(window: float, indicator=indicator):
                return maths.ratios(
                    counts[indicator.numerator, window],
                    counts[indicator.total, window],
                    indicator.numerator_is_good,
                )

            sli, error_ratio = ratios(self.window_seconds(definition))
            errors = {label: ratios(seconds)[1] for label, seconds in maths.BURN_WINDOWS.items()}
            evaluations.append(self.finish(definition, sli, error_ratio, errors))
        return evaluations

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


def evaluate(
    definitions: Sequence[SLODefinition],
    at: datetime,
    source_for: Callable[[SourceKey], Source],
) -> list[Evaluation]:
    """Evaluate every definition at `at`; the result keeps the order of `definitions`."""
    run = Run(at)
    by_source: dict[SourceKey, list[SLODefinition]] = defaultdict(list)
    for definition in definitions:
        by_source[definition.source].append(definition)
    done: dict[str, Evaluation] = {}
    for key, same_source in by_source.items():
        try:
            source = source_for(key)
        except SourceUnavailable as exc:
            done.update({d.name: run.unavailable(d, str(exc)) for d in same_source})
            continue
        sliced = [d for d in same_source if d.is_sliced]
        counted = [d for d in same_source if not d.is_sliced]
        for evaluation in [
            *run.evaluate_occurrences(source, counted),
            *run.evaluate_sliced(source, sliced),
        ]:
            done[evaluation.name] = evaluation
    return [done[d.name] for d in definitions]
