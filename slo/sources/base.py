"""The interface every source of SLO data implements, and what it returns.

A source answers for a `CounterGroup` — one metric, the label matchers shared by every selector
pushed down into the query, and the labels the selectors still need (`by`) — so that one query
answers all the SLOs that share the metric. Values come back per series key (the values of the
`by` labels, in order).

The engine asks for everything a run needs at once (`increases_of_groups`,
`expression_values`): a source that can answer many questions concurrently (Prometheus, over
one pool of connections per run) implements them itself (`ConcurrentSource`); any other is
asked one question at a time through the `Source` methods.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

import numpy as np

from slo.expressions import fill_window
from slo.promql import LabelMatcher
from slo.windows import promql_duration

SeriesKey = tuple[str, ...]
Series = list[tuple[dict[str, str], float]]
GroupIncreases = dict[float, dict[SeriesKey, float]]
ExpressionValues = dict[float, Series]


class SourceUnavailable(Exception):
    """The source could not answer (down, timed out, refused the query, or gave warnings)."""


@dataclass(frozen=True)
class CounterGroup:
    metric: str
    pushed: tuple[LabelMatcher, ...]
    by: tuple[str, ...]

    def key_of(self, labels: dict[str, str]) -> SeriesKey:
        return tuple(labels.get(name, "") for name in self.by)


class Source(Protocol):
    def increases(
        self, group: CounterGroup, windows: Sequence[float], at: datetime
    ) -> GroupIncreases:
        """Counter increase over each window (seconds) ending at `at`, per series key. A series
        with fewer than two samples in a window is absent, not zero."""

    def slice_increases(
        self, group: CounterGroup, slice_seconds: int, ends: np.ndarray
    ) -> dict[SeriesKey, np.ndarray]:
        """Counter increase over each slice (slice_seconds long, ending at each of `ends`, unix
        seconds), per series key; NaN where a slice has no data."""

    def slice_values(self, query: str, ends: np.ndarray) -> np.ndarray:
        """The value of a one-series query at each of `ends`; NaN where there is none."""

    def instant_values(
        self, queries: Sequence[str], at: datetime
    ) -> dict[str, Series | SourceUnavailable]:
        """Each query's series (labels and value) at `at`, or why that query failed (an
        expression Prometheus refuses fails alone; a Prometheus that is down fails them all)."""


@runtime_checkable
class ConcurrentSource(Protocol):
    """A source that answers a whole run's questions at once."""

    def increases_of_groups(
        self, wanted: Mapping[CounterGroup, Sequence[float]], at: datetime
    ) -> dict[CounterGroup, GroupIncreases | SourceUnavailable]:
        """`increases()` of every group over its windows, or why that group failed."""

    def expression_values(
        self, wanted: Mapping[str, Sequence[float]], at: datetime
    ) -> dict[str, ExpressionValues | SourceUnavailable]:
        """Each expression (with `{{.window}}`) over each of its windows: its series per
        window, or why that expression failed."""


def increases_of_groups(
    source: Source, wanted: Mapping[CounterGroup, Sequence[float]], at: datetime
) -> dict[CounterGroup, GroupIncreases | SourceUnavailable]:
    """Every group's increases over its windows, or why that group failed."""
    if isinstance(source, ConcurrentSource):
        return source.increases_of_groups(wanted, at)
    found: dict[CounterGroup, GroupIncreases | SourceUnavailable] = {}
    for group, windows in wanted.items():
        try:
            found[group] = source.increases(group, windows, at)
        except SourceUnavailable as exc:
            found[group] = exc
    return found


def expression_values(
    source: Source, wanted: Mapping[str, Sequence[float]], at: datetime
) -> dict[str, ExpressionValues | SourceUnavailable]:
    """Each expression's series over each of its windows, or why that expression failed."""
    if isinstance(source, ConcurrentSource):
        return source.expression_values(wanted, at)
    filled = {
        (expression, window): fill_window(expression, promql_duration(window))
        for expression, windows in wanted.items()
        for window in windows
    }
    answers = source.instant_values(sorted(set(filled.values())), at)
    found: dict[str, ExpressionValues | SourceUnavailable] = {}
    for expression, windows in wanted.items():
        values = {window: answers[filled[expression, window]] for window in windows}
        failed = [v for v in values.values() if isinstance(v, SourceUnavailable)]
        found[expression] = failed[0] if failed else values  # type: ignore[assignment]
    return found
