"""Prometheus through prometheus-api-client, failing loudly rather than answering wrongly.

- A run's questions — a metric's increase over each of its windows, an expression over each of
  its windows, or over the pieces of a window that maintenance leaves — are asked many in one
  request, as long as they are asked at the same moment (a piece ends where a maintenance window
  begins; without maintenance every window ends at the run's moment). Every query is labelled
  with its position (`label_replace(..., "__ssops_part__", "<n>", "", "")`, a label name
  Prometheus reserves for internal use, so no series of a user's carries it) and the parts are
  joined with `or`, which keeps them all since their labels differ. Prometheus evaluates each
  part exactly as it would alone; what this saves is a request, an answer and a thread hand-off
  per query. Per moment, whole questions go in one request until it holds PARTS_PER_REQUEST
  queries, and the requests of a run go over one pool of `parallel` threads, so that as many are
  in flight from the first to the last.
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

from slo import maths
from slo.expressions import fill_window
from slo.sources.base import (
    CounterGroup,
    ExpressionValues,
    GroupIncreases,
    Series,
    SeriesKey,
    SourceUnavailable,
    Span,
    add_present,
)
from slo.windows import promql_duration

# Prometheus refuses a range query of more than 11,000 points per series.
MAX_POINTS = 10_000
# Raw samples are read a day at a time, so that no answer grows past a day of samples.
RAW_CHUNK_SECONDS = 86400
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
        # Raw samples read for backtests: per group, (first, last) second covered and the series.
        self._history: dict[CounterGroup, tuple[float, float, list]] = {}
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
        self, questions: Mapping[Key, Sequence[tuple[str, float]]]
    ) -> dict[Key, list[Series] | SourceUnavailable]:
        """Every question's queries, each asked at its own moment (unix seconds), answered in
        order, or why one of them failed. A request holds queries of one moment only: per
        moment, whole questions go to a request until it holds PARTS_PER_REQUEST queries or
        more. The requests of every moment go over one pool."""
        by_moment: dict[float, list[list[tuple[Key, int, str]]]] = defaultdict(lambda: [[]])
        for key, queries in questions.items():
            begun: set[float] = set()
            for position, (query, moment) in enumerate(queries):
                batches = by_moment[moment]
                if moment not in begun and len(batches[-1]) >= PARTS_PER_REQUEST:
                    batches.append([])
                begun.add(moment)
                batches[-1].append((key, position, query))
        calls = [
            (moment, batch) for moment, batches in by_moment.items() for batch in batches if batch
        ]
        found: dict[Key, list] = {key: [None] * len(queries) for key, queries in questions.items()}
        with ThreadPoolExecutor(min(self.parallel, len(calls)) or 1) as pool:
            answered = pool.map(
                lambda request: self._ask([q for _, _, q in request[1]], request[0]), calls
            )
            for (_, batch), answers in zip(calls, answered, strict=True):
                for (key, position, _), answer in zip(batch, answers, strict=True):
                    found[key][position] = answer
        return {
            key: next((a for a in answers if isinstance(a, SourceUnavailable)), answers)
            for key, answers in found.items()
        }

    def range(
        self, query: str, ends: np.ndarray, step: int
    ) -> list[tuple[dict[str, str], np.ndarray]]:
        """Values at each of `ends` (aligned, `step` apart), one array per series, NaN-filled;
        long ranges are asked in pieces of MAX_POINTS, in parallel."""
        ends = np.asarray(ends)

        def piece(first: int) -> list[dict]:
            chunk = ends[first : first + MAX_POINTS]
            return self._call(
                self.client.custom_query_range,
                query,
                start_time=datetime.fromtimestamp(int(chunk[0]), tz=UTC),
                end_time=datetime.fromtimestamp(int(chunk[-1]), tz=UTC),
                step=str(step),
                params={"timeout": f"{self.timeout}s"},
            )

        firsts = list(range(0, len(ends), MAX_POINTS))
        with ThreadPoolExecutor(min(self.parallel, len(firsts)) or 1) as pool:
            answers = list(pool.map(piece, firsts))
        series: dict[tuple, tuple[dict[str, str], np.ndarray]] = {}
        origin = int(ends[0]) if len(ends) else 0
        for result in answers:
            for item in result:
                key = tuple(sorted(item["metric"].items()))
                labels, values = series.setdefault(
                    key, (item["metric"], np.full(len(ends), np.nan))
                )
                found = np.array(item["values"], dtype=np.float64)  # [unix seconds, "value"]
                positions = np.round((found[:, 0] - origin) / step).astype(np.int64)
                values[positions] = found[:, 1]
        return list(series.values())

    # -- the Source interface ----------------------------------------------------------------

    @staticmethod
    def selector(group: CounterGroup) -> str:
        selector = group.metric
        if group.pushed:
            selector += "{" + ",".join(m.promql() for m in group.pushed) + "}"
        return selector

    @classmethod
    def increase_query(cls, group: CounterGroup, window: float) -> str:
        selector = cls.selector(group)
        return f"sum by ({', '.join(group.by)}) (increase({selector}[{promql_duration(window)}]))"

    def raw_samples(
        self, group: CounterGroup, start: float, end: float
    ) -> list[tuple[dict[str, str], np.ndarray, np.ndarray]]:
        """Every sample of the group's series in [start, end]: (labels, timestamps in ms,
        values) per series, read a day at a time (range selectors, in parallel)."""
        cached = self._history.get(group)
        if cached and cached[0] <= start and end <= cached[1]:
            return cached[2]
        selector = self.selector(group)
        bounds = [float(b) for b in np.arange(start, end, RAW_CHUNK_SECONDS)] + [float(end)]

        def chunk(pair: tuple[float, float]) -> list[dict]:
            low, high = pair
            length = promql_duration(round(high - low, 3))
            return self._call(
                self.client.custom_query,
                f"{selector}[{length}]",
                params={"time": repr(high), "timeout": f"{self.timeout}s"},
            )

        pieces = list(zip(bounds, bounds[1:], strict=False))
        with ThreadPoolExecutor(min(self.parallel, len(pieces)) or 1) as pool:
            answers = list(pool.map(chunk, pieces))
        found: dict[tuple, tuple[dict[str, str], list]] = {}
        for answer in answers:
            for item in answer:
                key = tuple(sorted(item["metric"].items()))
                found.setdefault(key, (item["metric"], []))[1].extend(item["values"])
        series = []
        for labels, values in found.values():
            raw = np.array(values, dtype=np.float64)  # [unix seconds, "value"] pairs
            millis = np.round(raw[:, 0] * 1000).astype(np.int64)
            # Neighbouring chunks share their edge: keep each timestamp once, in order.
            millis, first = np.unique(millis, return_index=True)
            series.append((labels, millis, raw[first, 1]))
        self._history[group] = (start, end, series)
        return series

    def increases_between(
        self, group: CounterGroup, starts: np.ndarray, ends: np.ndarray
    ) -> dict[SeriesKey, np.ndarray]:
        starts = np.asarray(starts, dtype=np.float64)
        ends = np.asarray(ends, dtype=np.float64)
        if not len(starts):
            return {}
        series = self.raw_samples(group, float(starts.min()), float(ends.max()))
        starts_ms = np.round(starts * 1000).astype(np.int64)
        ends_ms = np.round(ends * 1000).astype(np.int64)
        result: dict[SeriesKey, np.ndarray] = {}
        for labels, millis, values in series:
            key = group.key_of(labels)
            found = maths.increases_between(millis, values, starts_ms, ends_ms)
            result[key] = add_present(result.get(key), found)
        return result

    def range_values(
        self, query: str, ends: np.ndarray, step: int
    ) -> list[tuple[dict[str, str], np.ndarray]]:
        return self.range(query, ends, step)

    def increases(
        self, group: CounterGroup, windows: Sequence[float], at: datetime
    ) -> dict[float, dict[SeriesKey, float]]:
        end = at.timestamp()
        found = self.increases_of_groups({group: [(w, end) for w in windows]})[group]
        if isinstance(found, SourceUnavailable):
            raise found
        return {length: values for (length, _), values in found.items()}

    def increases_of_groups(
        self, wanted: Mapping[CounterGroup, Sequence[Span]]
    ) -> dict[CounterGroup, GroupIncreases | SourceUnavailable]:
        questions = {
            group: [(self.increase_query(group, length), end) for length, end in spans]
            for group, spans in wanted.items()
        }
        result: dict[CounterGroup, GroupIncreases | SourceUnavailable] = {}
        for group, answers in self._answer(questions).items():
            if isinstance(answers, SourceUnavailable):
                result[group] = answers
                continue
            result[group] = {
                span: {
                    group.key_of(labels): value for labels, value in series if not math.isnan(value)
                }
                for span, series in zip(wanted[group], answers, strict=True)
            }
        return result

    def expression_values(
        self, wanted: Mapping[str, Sequence[Span]]
    ) -> dict[str, ExpressionValues | SourceUnavailable]:
        questions = {
            expression: [
                (fill_window(expression, promql_duration(length)), end) for length, end in spans
            ]
            for expression, spans in wanted.items()
        }
        return {
            expression: (
                answers
                if isinstance(answers, SourceUnavailable)
                else dict(zip(wanted[expression], answers, strict=True))
            )
            for expression, answers in self._answer(questions).items()
        }

    def slice_increases(
        self, group: CounterGroup, slice_seconds: int, ends: np.ndarray
    ) -> dict[SeriesKey, np.ndarray]:
        found = self.range(self.increase_query(group, slice_seconds), ends, slice_seconds)
        return {group.key_of(labels): values for labels, values in found}

    def instant_values(
        self, queries: Sequence[str], at: datetime
    ) -> dict[str, Series | SourceUnavailable]:
        moment = at.timestamp()
        questions = {query: [(query, moment)] for query in queries}
        return {
            query: answers if isinstance(answers, SourceUnavailable) else answers[0]
            for query, answers in self._answer(questions).items()
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
