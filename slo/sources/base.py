"""The interface every source of SLO data implements, and what it returns.

A source answers for a `CounterGroup` — one metric, the label matchers shared by every selector
pushed down into the query, and the labels the selectors still need (`by`) — so that one query
answers all the SLOs that share the metric. Values come back per series key (the values of the
`by` labels, in order).

The engine asks for everything a run needs at once (`increases_of_groups`,
`expression_values`), each question as spans: windows, or the pieces of a window that
maintenance leaves, each with its own end. A source that can answer many questions concurrently
(Prometheus, over one pool of connections per run) implements them itself (`ConcurrentSource`);
any other is asked one end and one question at a time through the `Source` methods.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

import numpy as np

from slo.expressions import fill_window
from slo.promql import LabelMatcher
from slo.windows import promql_duration

SeriesKey = tuple[str, ...]
Series = list[tuple[dict[str, str], float]]
# A window, or a piece of one that maintenance leaves: its length (seconds) and where it ends
# (unix seconds). Without maintenance every span of a run ends at the run's moment.
Span = tuple[float, float]
GroupIncreases = dict[Span, dict[SeriesKey, float]]
ExpressionValues = dict[Span, Series]


class SourceUnavailable(Exception):
    """The source could not answer (down, timed out, refused the query, or gave warnings)."""


def add_present(total: np.ndarray | None, more: np.ndarray) -> np.ndarray:
    """Two series of values added point by point, as PromQL's sum() adds the series present at
    a point: NaN only where both are NaN."""
    if total is None:
        return more.copy()
    both_missing = np.isnan(total) & np.isnan(more)
    summed = np.where(np.isnan(total), 0.0, total) + np.where(np.isnan(more), 0.0, more)
    return np.where(both_missing, np.nan, summed)


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
    ) -> dict[float, dict[SeriesKey, float]]:
        """Counter increase over each window (seconds) ending at `at`, per series key. A series
        with fewer than two samples in a window is absent, not zero."""

    def slice_increases(
        self, group: CounterGroup, slice_seconds: int, ends: np.ndarray
    ) -> dict[SeriesKey, np.ndarray]:
        """Counter increase over each slice (slice_seconds long, ending at each of `ends`, unix
        seconds), per series key; NaN where a slice has no data."""

    def increases_between(
        self, group: CounterGroup, starts: np.ndarray, ends: np.ndarray
    ) -> dict[SeriesKey, np.ndarray]:
        """Counter increase over each range [starts[i], ends[i]] (unix seconds, any number of
        ranges, for backtests), per series key, computed as `increases` computes one window;
        NaN where a range has no data."""

    def range_values(
        self, query: str, ends: np.ndarray, step: int
    ) -> list[tuple[dict[str, str], np.ndarray]]:
        """A query's series at each of `ends` (aligned, `step` seconds apart), NaN-filled where
        a series has no value (for backtests of the promql path)."""

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
        self, wanted: Mapping[CounterGroup, Sequence[Span]]
    ) -> dict[CounterGroup, GroupIncreases | SourceUnavailable]:
        """`increases()` of every group over each of its spans, or why that group failed."""

    def expression_values(
        self, wanted: Mapping[str, Sequence[Span]]
    ) -> dict[str, ExpressionValues | SourceUnavailable]:
        """Each expression (with `{{.window}}`) over each of its spans: its series per span,
        or why that expression failed."""


def moment(seconds: float) -> datetime:
    """A span's end as a datetime (exact for any datetime's own `timestamp()`)."""
    return datetime.fromtimestamp(seconds, tz=UTC)


def by_end(spans: Iterable[Span]) -> dict[float, list[float]]:
    """The lengths of the spans, per end, each list sorted."""
    lengths: dict[float, set[float]] = defaultdict(set)
    for length, end in spans:
        lengths[end].add(length)
    return {end: sorted(found) for end, found in sorted(lengths.items())}


def increases_of_groups(
    source: Source, wanted: Mapping[CounterGroup, Sequence[Span]]
) -> dict[CounterGroup, GroupIncreases | SourceUnavailable]:
    """Every group's increases over each of its spans, or why that group failed."""
    if isinstance(source, ConcurrentSource):
        return source.increases_of_groups(wanted)
    found: dict[CounterGroup, GroupIncreases | SourceUnavailable] = {}
    for group, spans in wanted.items():
        increases: GroupIncreases = {}
        try:
            for end, lengths in by_end(spans).items():
                answers = source.increases(group, lengths, moment(end))
                increases.update({(length, end): answers[length] for length in lengths})
        except SourceUnavailable as exc:
            found[group] = exc
        else:
            found[group] = increases
    return found


def expression_values(
    source: Source, wanted: Mapping[str, Sequence[Span]]
) -> dict[str, ExpressionValues | SourceUnavailable]:
    """Each expression's series over each of its spans, or why that expression failed."""
    if isinstance(source, ConcurrentSource):
        return source.expression_values(wanted)
    filled = {
        (expression, span): fill_window(expression, promql_duration(span[0]))
        for expression, spans in wanted.items()
        for span in spans
    }
    queries_at: dict[float, set[str]] = defaultdict(set)
    for (_, (_, end)), query in filled.items():
        queries_at[end].add(query)
    answers = {
        (end, query): answer
        for end, queries in sorted(queries_at.items())
        for query, answer in source.instant_values(sorted(queries), moment(end)).items()
    }
    found: dict[str, ExpressionValues | SourceUnavailable] = {}
    for expression, spans in wanted.items():
        values = {span: answers[span[1], filled[expression, span]] for span in spans}
        failed = [v for v in values.values() if isinstance(v, SourceUnavailable)]
        found[expression] = failed[0] if failed else values  # type: ignore[assignment]
    return found
