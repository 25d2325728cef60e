"""A second synthetic workload for the session's Prometheus: the SLI shapes people write in
Sloth, Pyrra and OpenSLO files beyond plain counters (tests/slo/test_formats_measured.py).

Backfilled by promtool beside tests/slo/workload.py (its own cached blocks, so editing one does
not rebuild the other), over the eight days before workload.END: every 5 minutes, then every
minute for the last day. Few series, to keep the backfill short:

- a classic latency histogram of the `shop` job, per route (/cart, /pay): `_bucket` at le 0.25,
  0.5 and +Inf, and `_count`; /pay is slow (30 % over 0.5 s) during workload.OUTAGE;
- `node_ready_ratio{node}`, a gauge per node (a, b, c), below 0.75 now and then and for node c
  from END-30h to END-28h (the gauge a subquery counts);
- `probe_success{target}`, a 0/1 gauge per target (web, api), failing 1 % of the time and api
  throughout END-5h to END-4h.

Native histograms cannot be backfilled by promtool 2.42 (OpenMetrics text has no native
histograms), so `shop_request_seconds{route}` (schema 0) is written through Prometheus's
remote-write receiver after it starts, from NATIVE_START to NATIVE_END (after the backfilled
blocks end, where the head accepts samples): `native_series()` gives its observations.
Generators are deterministic: the tests recompute the event counts from them.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

from tests.slo.workload import DAY, END, HOUR, MINUTE, OUTAGE

START = END - 8 * DAY
FINE_FROM = END - DAY
ROUTES = ("/cart", "/pay")
BUCKETS = ("0.25", "0.5", "+Inf")
NODES = ("a", "b", "c")
NODE_DOWN = (END - 30 * HOUR, END - 28 * HOUR)
TARGETS = ("web", "api")
PROBE_OUTAGE = (END - 5 * HOUR, END - 4 * HOUR)
NATIVE_START = END + DAY
NATIVE_END = END + 4 * DAY
NATIVE_OUTAGE = (NATIVE_END - 3 * HOUR, NATIVE_END - 2 * HOUR - 40 * MINUTE)
# Schema 0: bucket i holds observations in (2^(i-1), 2^i]; 0.5 s is the upper bound of bucket -1.
NATIVE_BUCKETS = (-2, -1, 0, 1)


def grid() -> Iterator[int]:
    yield from range(START, FINE_FROM, 5 * MINUTE)
    yield from range(FINE_FROM, END + 1, MINUTE)


def slow_share(route: str, ts: float) -> float:
    if route == "/pay" and OUTAGE[0] <= ts < OUTAGE[1]:
        return 0.30
    return 0.01 if route == "/pay" else 0.004


def _histogram(rng: random.Random) -> Iterator[tuple]:
    family = "http_request_duration_seconds"
    for route in ROUTES:
        labels = f'job="shop",route="{route}"'
        fast = medium = slow = 0  # up to 0.25 s, up to 0.5 s, over 0.5 s
        previous = None
        for ts in grid():
            if previous is not None:
                count = round((ts - previous) / MINUTE * rng.uniform(150, 250))
                late = round(count * slow_share(route, ts) * rng.uniform(0.5, 1.5))
                quick = round((count - late) * 0.8)
                fast, medium, slow = fast + quick, medium + count - late - quick, slow + late
            previous = ts
            cumulative = {"0.25": fast, "0.5": fast + medium, "+Inf": fast + medium + slow}
            for le in BUCKETS:
                series = f'{family}_bucket{{{labels},le="{le}"}}'
                yield f"{family}_bucket", "unknown", series, float(ts), float(cumulative[le])
            total = float(cumulative["+Inf"])
            yield f"{family}_count", "unknown", f"{family}_count{{{labels}}}", float(ts), total


def node_ratio(node: str, ts: float, rng: random.Random) -> float:
    if node == "c" and NODE_DOWN[0] <= ts < NODE_DOWN[1]:
        return rng.uniform(0.4, 0.7)
    return rng.uniform(0.5, 0.74) if rng.random() < 0.02 else rng.uniform(0.8, 1.0)


def _nodes(rng: random.Random) -> Iterator[tuple]:
    for node in NODES:
        for ts in grid():
            value = round(node_ratio(node, ts, rng), 4)
            series = f'node_ready_ratio{{node="{node}"}}'
            yield "node_ready_ratio", "gauge", series, float(ts), value


def probe(target: str, ts: float, rng: random.Random) -> float:
    if target == "api" and PROBE_OUTAGE[0] <= ts < PROBE_OUTAGE[1]:
        return 0.0
    return 0.0 if rng.random() < 0.01 else 1.0


def _probes(rng: random.Random) -> Iterator[tuple]:
    for target in TARGETS:
        for ts in grid():
            series = f'probe_success{{target="{target}"}}'
            yield "probe_success", "gauge", series, float(ts), probe(target, ts, rng)


def generate() -> Iterator[tuple]:
    rng = random.Random(20260102)
    yield from _histogram(rng)
    yield from _nodes(rng)
    yield from _probes(rng)


@dataclass
class NativeSample:
    """One scrape of the native histogram: counts per bucket index so far (cumulative in time,
    not across buckets), at a unix time."""

    ts: int
    buckets: dict[int, int]

    @property
    def count(self) -> int:
        return sum(self.buckets.values())


def native_series() -> dict[str, list[NativeSample]]:
    """Per route, the native histogram's samples every minute from NATIVE_START to NATIVE_END."""
    rng = random.Random(20260103)
    found = {}
    for route in ROUTES:
        counts = dict.fromkeys(NATIVE_BUCKETS, 0)
        samples = []
        for ts in range(NATIVE_START, NATIVE_END + 1, MINUTE):
            n = rng.randint(100, 200)
            slow = 0.3 if route == "/pay" and NATIVE_OUTAGE[0] <= ts < NATIVE_OUTAGE[1] else 0.01
            late = round(n * slow * rng.uniform(0.5, 1.5))
            quick = n - late
            counts[-2] += round(quick * 0.7)
            counts[-1] += quick - round(quick * 0.7)
            counts[0] += late - late // 3
            counts[1] += late // 3
            samples.append(NativeSample(ts, dict(counts)))
        found[route] = samples
    return found
