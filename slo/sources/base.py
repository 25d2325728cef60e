"""The interface every source of SLO data implements, and what it returns.

A source answers for a `CounterGroup` — one metric, the label matchers shared by every selector
pushed down into the query, and the labels the selectors still need (`by`) — so that one query
per window answers all the SLOs that share the metric. Values come back per series key (the
values of the `by` labels, in order).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import numpy as np

from slo.promql import LabelMatcher

SeriesKey = tuple[str, ...]


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
    ) -> dict[str, list[tuple[dict[str, str], float]] | SourceUnavailable]:
        """Each query's series (labels and value) at `at`, or why that query failed (an
        expression Prometheus refuses fails alone; a Prometheus that is down fails them all)."""
