"""Prometheus through prometheus-api-client, failing loudly rather than answering wrongly.

- Every request has a timeout (the client's default is none) and is retried on 408/429/5xx.
- RetryError, ConnectionError, timeouts, HTTP errors and responses carrying Prometheus `warnings`
  (possibly partial data, which the client would drop silently) raise SourceUnavailable.
- After a transport failure the source stays down for the rest of the run, so an unreachable
  Prometheus costs one timeout, not one per query.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import numpy as np
import requests
from prometheus_api_client import PrometheusApiClientException, PrometheusConnect
from urllib3.util.retry import Retry

from slo import maths
from slo.sources.base import CounterGroup, SeriesKey, SourceUnavailable, add_present
from slo.windows import promql_duration

# Prometheus refuses a range query of more than 11,000 points per series.
MAX_POINTS = 10_000
# Raw samples are read a day at a time, so that no answer grows past a day of samples.
RAW_CHUNK_SECONDS = 86400


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
        # Raw samples read for backtests: per group, (first, last) second covered and the series.
        self._history: dict[CounterGroup, tuple[float, float, list]] = {}
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

    def instant(self, query: str, at: float) -> list[tuple[dict[str, str], float]]:
        result = self._call(
            self.client.custom_query,
            query,
            params={"time": repr(at), "timeout": f"{self.timeout}s"},
        )
        return [(item["metric"], float(item["value"][1])) for item in result]

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
        moment = at.timestamp()

        def one(window: float) -> dict[SeriesKey, float]:
            found = self.instant(self.increase_query(group, window), moment)
            return {group.key_of(labels): value for labels, value in found if not math.isnan(value)}

        with ThreadPoolExecutor(min(self.parallel, len(windows)) or 1) as pool:
            return dict(zip(windows, pool.map(one, windows), strict=True))

    def slice_increases(
        self, group: CounterGroup, slice_seconds: int, ends: np.ndarray
    ) -> dict[SeriesKey, np.ndarray]:
        found = self.range(self.increase_query(group, slice_seconds), ends, slice_seconds)
        return {group.key_of(labels): values for labels, values in found}

    def instant_values(
        self, queries: Sequence[str], at: datetime
    ) -> dict[str, list[tuple[dict[str, str], float]] | SourceUnavailable]:
        moment = at.timestamp()

        def one(query: str) -> list[tuple[dict[str, str], float]] | SourceUnavailable:
            try:
                return self.instant(query, moment)
            except SourceUnavailable as exc:
                return exc

        with ThreadPoolExecutor(min(self.parallel, len(queries)) or 1) as pool:
            return dict(zip(queries, pool.map(one, queries), strict=True))

    def slice_values(self, query: str, ends: np.ndarray) -> np.ndarray:
        step = int(ends[1] - ends[0]) if len(ends) > 1 else 60
        found = self.range(query, ends, step)
        if len(found) > 1:
            raise SourceUnavailable(
                f"the threshold query returns {len(found)} series; it must return one "
                "(aggregate it, e.g. max(...))"
            )
        return found[0][1] if found else np.full(len(ends), np.nan)
