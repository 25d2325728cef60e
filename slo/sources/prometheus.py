"""Prometheus through prometheus-api-client, failing loudly rather than answering wrongly.

- One request answers every window of a question: the query for each window is labelled with
  its window (`label_replace(..., "__ssops_window__", ...)`, a label name Prometheus reserves
  for internal use, so no series of a user's carries it) and the parts are joined with `or`,
  which keeps them all since their labels differ. Prometheus evaluates each part exactly as it
  would alone; what this saves is a request, an answer and a thread hand-off per window.
- The questions of a run go out over one pool of `parallel` threads for the whole run
  (`increases_of_groups`, `expression_values`), so that as many are in flight from the first
  to the last.
- Every request has a timeout (the client's default is none): `timeout` per window it carries,
  and is retried on 408/429/5xx.
- RetryError, ConnectionError, timeouts, HTTP errors and responses carrying Prometheus `warnings`
  (possibly partial data, which the client would drop silently) raise SourceUnavailable.
- After a transport failure the source stays down for the rest of the run, so an unreachable
  Prometheus costs one timeout, not one per query.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import numpy as np
import requests
from prometheus_api_client import PrometheusApiClientException, PrometheusConnect
from urllib3.util.retry import Retry

from slo.expressions import fill_window
from slo.sources.base import (
    CounterGroup,
    ExpressionValues,
    GroupIncreases,
    Series,
    SeriesKey,
    SourceUnavailable,
)
from slo.windows import promql_duration

# Prometheus refuses a range query of more than 11,000 points per series.
MAX_POINTS = 10_000
WINDOW_LABEL = "__ssops_window__"


def by_window(queries: Sequence[str]) -> str:
    """One query that answers several, each part's series labelled with its position."""
    return " or ".join(
        f'label_replace(({query}), "{WINDOW_LABEL}", "{position}", "", "")'
        for position, query in enumerate(queries)
    )


class PrometheusWarnings(SourceUnavailable):
    pass


def _refuse_warnings(response: requests.Response, *args, **kwargs) -> None:
    if response.status_code == 200 and b'"warnings"' in response.content:
        warnings = response.json().get("warnings") or []
        if warnings:
            raise PrometheusWarnings("Prometheus answered with warnings: " + "; ".join(warnings))


class PrometheusSource:
    def __init__(self, url: str, timeout: float, retries: int = 2, parallel: int = 4):
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.parallel = parallel
        self.down: SourceUnavailable | None = None
        self.queries = 0  # sent, for the benchmarks' queries per evaluation
        self._counting = threading.Lock()
        session = requests.Session()
        session.hooks["response"].append(_refuse_warnings)
        retry = Retry(
            total=retries,
            backoff_factor=0.2,
            status_forcelist=[408, 429, 500, 502, 503, 504],
            allowed_methods=None,  # queries are POSTed (long selectors) and safe to repeat
        )
        self.client = PrometheusConnect(
            url=self.url, session=session, retry=retry, timeout=timeout, method="POST"
        )

    # -- raw queries -----------------------------------------------------------------------

    def _call(self, method, *args, **kwargs):
        if self.down is not None:
            raise self.down
        with self._counting:  # queries go out from several threads
            self.queries += 1
        try:
            return method(*args, **kwargs)
        except PrometheusWarnings:
            raise
        except requests.exceptions.RetryError as exc:
            self.down = SourceUnavailable(f"Prometheus at {self.url} kept failing: {exc}")
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
            self.down = SourceUnavailable(f"Prometheus at {self.url} is unreachable: {exc}")
        except requests.exceptions.RequestException as exc:
            self.down = SourceUnavailable(f"Prometheus at {self.url} failed: {exc}")
        except PrometheusApiClientException as exc:
            raise SourceUnavailable(f"Prometheus refused a query: {exc}") from None
        except (ValueError, KeyError) as exc:
            raise SourceUnavailable(f"Prometheus gave an unreadable answer: {exc}") from None
        raise self.down

    def instant(self, query: str, at: float, parts: int = 1) -> Series:
        """The series of an instant query; `parts` windows' worth of time to answer."""
        timeout = self.timeout * parts
        result = self._call(
            self.client.custom_query,
            query,
            params={"time": repr(at), "timeout": f"{timeout}s"},
            timeout=timeout,
        )
        return [(item["metric"], float(item["value"][1])) for item in result]

    def windowed(self, queries: Sequence[str], at: float) -> list[Series]:
        """The answers of several queries (one per window), asked in one request."""
        found: list[Series] = [[] for _ in queries]
        for labels, value in self.instant(by_window(queries), at, parts=len(queries)):
            position = labels.pop(WINDOW_LABEL, None)
            if position is None:
                raise SourceUnavailable(f"Prometheus answered a series without {WINDOW_LABEL}")
            found[int(position)].append((labels, value))
        return found

    def _each(self, questions: Iterable, answer: Callable) -> list:
        """`answer` of every question over one pool (a failed question gives its exception)."""
        questions = list(questions)

        def one(question):
            try:
                return answer(question)
            except SourceUnavailable as exc:
                return exc

        with ThreadPoolExecutor(min(self.parallel, len(questions)) or 1) as pool:
            return list(pool.map(one, questions))

    def range(
        self, query: str, ends: np.ndarray, step: int
    ) -> list[tuple[dict[str, str], np.ndarray]]:
        """Values at each of `ends` (aligned, `step` apart), one array per series, NaN-filled."""
        series: dict[tuple, tuple[dict[str, str], np.ndarray]] = {}
        position = {int(t): i for i, t in enumerate(ends)}
        for first in range(0, len(ends), MAX_POINTS):
            chunk = ends[first : first + MAX_POINTS]
            result = self._call(
                self.client.custom_query_range,
                query,
                start_time=datetime.fromtimestamp(int(chunk[0]), tz=UTC),
                end_time=datetime.fromtimestamp(int(chunk[-1]), tz=UTC),
                step=str(step),
                params={"timeout": f"{self.timeout}s"},
            )
            for item in result:
                key = tuple(sorted(item["metric"].items()))
                labels, values = series.setdefault(
                    key, (item["metric"], np.full(len(ends), np.nan))
                )
                for ts, value in item["values"]:
                    values[position[int(float(ts))]] = float(value)
        return list(series.values())

    # -- the Source interface ----------------------------------------------------------------

    @staticmethod
    def increase_query(group: CounterGroup, window: float) -> str:
        selector = group.metric
        if group.pushed:
            selector += "{" + ",".join(m.promql() for m in group.pushed) + "}"
        return f"sum by ({', '.join(group.by)}) (increase({selector}[{promql_duration(window)}]))"

    def increases(
        self, group: CounterGroup, windows: Sequence[float], at: datetime
    ) -> GroupIncreases:
        if not windows:
            return {}
        queries = [self.increase_query(group, window) for window in windows]
        found = self.windowed(queries, at.timestamp())
        return {
            window: {
                group.key_of(labels): value for labels, value in series if not math.isnan(value)
            }
            for window, series in zip(windows, found, strict=True)
        }

    def increases_of_groups(
        self, wanted: Mapping[CounterGroup, Sequence[float]], at: datetime
    ) -> dict[CounterGroup, GroupIncreases | SourceUnavailable]:
        answers = self._each(wanted.items(), lambda item: self.increases(*item, at))
        return dict(zip(wanted, answers, strict=True))

    def expression_values(
        self, wanted: Mapping[str, Sequence[float]], at: datetime
    ) -> dict[str, ExpressionValues | SourceUnavailable]:
        moment = at.timestamp()

        def values(item: tuple[str, Sequence[float]]) -> ExpressionValues:
            expression, windows = item
            queries = [fill_window(expression, promql_duration(w)) for w in windows]
            return dict(zip(windows, self.windowed(queries, moment), strict=True))

        answers = self._each(wanted.items(), values)
        return dict(zip(wanted, answers, strict=True))

    def slice_increases(
        self, group: CounterGroup, slice_seconds: int, ends: np.ndarray
    ) -> dict[SeriesKey, np.ndarray]:
        found = self.range(self.increase_query(group, slice_seconds), ends, slice_seconds)
        return {group.key_of(labels): values for labels, values in found}

    def instant_values(
        self, queries: Sequence[str], at: datetime
    ) -> dict[str, Series | SourceUnavailable]:
        moment = at.timestamp()
        answers = self._each(queries, lambda query: self.instant(query, moment))
        return dict(zip(queries, answers, strict=True))

    def slice_values(self, query: str, ends: np.ndarray) -> np.ndarray:
        step = int(ends[1] - ends[0]) if len(ends) > 1 else 60
        found = self.range(query, ends, step)
        if len(found) > 1:
            raise SourceUnavailable(
                f"the threshold query returns {len(found)} series; it must return one "
                "(aggregate it, e.g. max(...))"
            )
        return found[0][1] if found else np.full(len(ends), np.nan)
