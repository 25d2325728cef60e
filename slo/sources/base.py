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

    def slice_values(self, query: str, ends: np.ndarray) -> np.ndarray:
        """The value of a one-series query at each of `ends`; NaN where there is none."""

    def instant_values(
        self, queries: Sequence[str], at: datetime
    ) -> dict[str, list[tuple[dict[str, str], float]] | SourceUnavailable]:
        """Each query's series (labels and value) at `at`, or why that query failed (an
        expression Prometheus refuses fails alone; a Prometheus that is down fails them all)."""
