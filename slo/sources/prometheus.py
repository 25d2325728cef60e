"""Prometheus through prometheus-api-client, failing loudly rather than answering wrongly.

- A run's questions — a metric's increase over each of its windows, an expression over each of
  its windows — are asked many in one request: every query labelled with its position
  (`label_replace(..., "__ssops_part__", "<n>", "", "")`, a label name Prometheus reserves for
  internal use, so no series of a user's carries it) and the parts joined with `or`, which keeps
  them all since their labels differ. Prometheus evaluates each part exactly as it would alone;
  what this saves is a request, an answer and a thread hand-off per query. Whole questions go
  in one request until it holds PARTS_PER_REQUEST queries, and the requests of a run go over one
  pool of `parallel` threads, so that as many are in flight from the first to the last.
- A request of several parts that fails, for whatever reason (refused, answered with warnings,
  timed out, cut off), is asked again part by part, each query alone, so that a failure stays
  with the query that caused it and the others still answer: the outcome of every query is what
  it would have been asked alone.
- Every request has a timeout (the client's default is none). A query asked alone is retried on
  408/429/5xx; a request of several parts is not (its parts are, alone).
- RetryError, ConnectionError, timeouts, HTTP errors and responses carrying Prometheus `warnings`
  (possibly partial data, which the client would drop silently) raise SourceUnavailable.
- After a transport failure of a query asked alone the source stays down for the rest of the run,
  so an unreachable Prometheus costs a timeout or two, not one per query.
"""

from __future__ import annotations

import math
import threading
from collections import defaultdict
from collections.abc import Hashable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TypeVar

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
PARTS_PER_REQUEST = 100
PART_LABEL = "__ssops_part__"
Key = TypeVar("Key", bound=Hashable)


def combined(queries: Sequence[str]) -> str:
    """One query that answers several, each part's series labelled with its position. The
    `or`s are nested as a balanced tree: a chain would make each `or` match everything the
    parts before it gave."""
    parts = [
        f'label_replace(({query}), "{PART_LABEL}", "{position}", "", "")'
        for position, query in enumerate(queries)
    ]
    while len(parts) > 1:
        pairs = [f"({a} or {b})" for a, b in zip(parts[::2], parts[1::2], strict=False)]
        parts = pairs + parts[len(pairs) * 2 :]
    return parts[0]


class PrometheusWarnings(SourceUnavailable):
    pass


def _refuse_warnings(response: requests.Response, *args, **kwargs) -> None:
    if response.status_code == 200 and b'"warnings"' in response.content:
        warnings = response.json().get("warnings") or []
        if warnings:
            raise PrometheusWarnings("Prometheus answered with warnings: " + "; ".join(warnings))


def _client(url: str, timeout: float, retry: Retry) -> PrometheusConnect:
    session = requests.Session()  # its own: the client mounts its retries on the session
    session.hooks["response"].append(_refuse_warnings)
    return PrometheusConnect(url=url, session=session, retry=retry, timeout=timeout, method="POST")


class PrometheusSource:
    def __init__(self, url: str, timeout: float, retries: int = 2, parallel: int = 4):
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.parallel = parallel
        self.down: SourceUnavailable | None = None
        self.queries = 0  # sent, for the benchmarks' queries per evaluation
        self._counting = threading.Lock()
        retry = Retry(
            total=retries,
            backoff_factor=0.2,
            status_forcelist=[408, 429, 500, 502, 503, 504],
            allowed_methods=None,  # queries are POSTed (long selectors) and safe to repeat
        )
        self.client = _client(self.url, timeout, retry)
        self.combining_client = _client(self.url, timeout, Retry(total=0))

    # -- raw queries -----------------------------------------------------------------------

    def _call(self, method, *args, alone: bool = True, **kwargs):
        """`method` of the client; a transport failure of a query asked `alone` marks the
        source down for the run."""
        if self.down is not None:
            raise self.down
        with self._counting:  # queries go out from several threads
            self.queries += 1
        try:
            return method(*args, **kwargs)
        except PrometheusWarnings:
            raise
        except requests.exceptions.RetryError as exc:
            failure = SourceUnavailable(f"Prometheus at {self.url} kept failing: {exc}")
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
            failure = SourceUnavailable(f"Prometheus at {self.url} is unreachable: {exc}")
        except requests.exceptions.RequestException as exc:
            failure = SourceUnavailable(f"Prometheus at {self.url} failed: {exc}")
        except PrometheusApiClientException as exc:
            raise SourceUnavailable(f"Prometheus refused a query: {exc}") from None
        except (ValueError, KeyError) as exc:
            raise SourceUnavailable(f"Prometheus gave an unreadable answer: {exc}") from None
        if alone:
            self.down = failure
        raise failure

    def instant(self, query: str, at: float) -> Series:
        result = self._call(
            self.client.custom_query,
            query,
            params={"time": repr(at), "timeout": f"{self.timeout}s"},
        )
        return [(item["metric"], float(item["value"][1])) for item in result]

    def _together(self, queries: Sequence[str], at: float) -> list[Series]:
        """The answers of several queries, asked in one request (raises if it fails)."""
        result = self._call(
            self.combining_client.custom_query,
            combined(queries),
            params={"time": repr(at), "timeout": f"{self.timeout}s"},
            alone=False,
        )
        found: list[Series] = [[] for _ in queries]
        for item in result:
            labels = item["metric"]
            position = labels.pop(PART_LABEL, None)
            if position is None:
                raise SourceUnavailable(f"Prometheus answered a series without {PART_LABEL}")
            found[int(position)].append((labels, float(item["value"][1])))
        return found

    def _ask(self, queries: Sequence[str], at: float) -> list[Series | SourceUnavailable]:
        """Each query's series, or why it failed: all in one request, or, when that request
        fails, each query alone."""
        if len(queries) > 1:
            try:
                return self._together(queries, at)
            except SourceUnavailable:
                pass  # told apart below
        answers: list[Series | SourceUnavailable] = []
        for query in queries:
            try:
                answers.append(self.instant(query, at))
            except SourceUnavailable as exc:
                answers.append(exc)
        return answers

    def _answer(
        self, questions: Mapping[Key, Sequence[str]], at: datetime
    ) -> dict[Key, list[Series] | SourceUnavailable]:
        """Every question's queries answered (in order), or why one of them failed. Whole
        questions go to a request until it holds PARTS_PER_REQUEST queries or more; the
        requests go over one pool."""
        batches: list[list[tuple[Key, str]]] = [[]]
        for key, queries in questions.items():
            if len(batches[-1]) >= PARTS_PER_REQUEST:
                batches.append([])
            batches[-1].extend((key, query) for query in queries)
        batches = [batch for batch in batches if batch]
        moment = at.timestamp()
        found: dict[Key, list] = defaultdict(list)
        with ThreadPoolExecutor(min(self.parallel, len(batches)) or 1) as pool:
            answered = pool.map(lambda batch: self._ask([q for _, q in batch], moment), batches)
            for batch, answers in zip(batches, answered, strict=True):
                for (key, _), answer in zip(batch, answers, strict=True):
                    found[key].append(answer)
        return {
            key: next((a for a in found[key] if isinstance(a, SourceUnavailable)), found[key])
            for key in questions
        }

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
        found = self.increases_of_groups({group: windows}, at)[group]
        if isinstance(found, SourceUnavailable):
            raise found
        return found

    def increases_of_groups(
        self, wanted: Mapping[CounterGroup, Sequence[float]], at: datetime
    ) -> dict[CounterGroup, GroupIncreases | SourceUnavailable]:
        questions = {
            group: [self.increase_query(group, window) for window in windows]
            for group, windows in wanted.items()
        }
        result: dict[CounterGroup, GroupIncreases | SourceUnavailable] = {}
        for group, answers in self._answer(questions, at).items():
            if isinstance(answers, SourceUnavailable):
                result[group] = answers
                continue
            result[group] = {
                window: {
                    group.key_of(labels): value for labels, value in series if not math.isnan(value)
                }
                for window, series in zip(wanted[group], answers, strict=True)
            }
        return result

    def expression_values(
        self, wanted: Mapping[str, Sequence[float]], at: datetime
    ) -> dict[str, ExpressionValues | SourceUnavailable]:
        questions = {
            expression: [fill_window(expression, promql_duration(w)) for w in windows]
            for expression, windows in wanted.items()
        }
        return {
            expression: (
                answers
                if isinstance(answers, SourceUnavailable)
                else dict(zip(wanted[expression], answers, strict=True))
            )
            for expression, answers in self._answer(questions, at).items()
        }

    def slice_increases(
        self, group: CounterGroup, slice_seconds: int, ends: np.ndarray
    ) -> dict[SeriesKey, np.ndarray]:
        found = self.range(self.increase_query(group, slice_seconds), ends, slice_seconds)
        return {group.key_of(labels): values for labels, values in found}

    def instant_values(
        self, queries: Sequence[str], at: datetime
    ) -> dict[str, Series | SourceUnavailable]:
        return {
            query: answers if isinstance(answers, SourceUnavailable) else answers[0]
            for query, answers in self._answer({query: [query] for query in queries}, at).items()
        }

    def slice_values(self, query: str, ends: np.ndarray) -> np.ndarray:
        step = int(ends[1] - ends[0]) if len(ends) > 1 else 60
        found = self.range(query, ends, step)
        if len(found) > 1:
            raise SourceUnavailable(
                f"the threshold query returns {len(found)} series; it must return one "
                "(aggregate it, e.g. max(...))"
            )
        return found[0][1] if found else np.full(len(ends), np.nan)
