"""The synthetic workload behind the session's Prometheus, and the SLOs that watch it.

Thirty-six days of `http_requests_total{service, instance, code}` counters and one latency gauge,
every 5 minutes until the last four days and every minute after that, ending at END:

- checkout: two instances (one scraped with jitter), steady 0.05 % errors, an outage of 40 %
  errors from END-3h to END-2h40m, and a counter reset (restart) of instance b at END-2d;
- search: a slow burn of 0.4 % errors over the last three days; a p99 latency gauge;
- catalog: a scrape gap, no samples from END-90m to END-40m (requests go on meanwhile);
- ledger: zero traffic for the last two days (counters flat);
- archive: zero traffic throughout (counters flat for the whole history).

Changing this module changes the hash that keys the cached blocks, so they are rebuilt.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

END = 1_767_225_600  # 2026-01-01T00:00:00Z
MINUTE, HOUR, DAY = 60, 3600, 86400
START = END - 36 * DAY
FINE_FROM = END - 4 * DAY

OUTAGE = (END - 3 * HOUR, END - 2 * HOUR - 40 * MINUTE)
RESET_AT = END - 2 * DAY
GAP = (END - 90 * MINUTE, END - 40 * MINUTE)
SLOW_BURN_FROM = END - 3 * DAY
LEDGER_IDLE_FROM = END - 2 * DAY

# (service, instance, requests per minute, scrape offset in seconds, jitter in seconds)
TARGETS = [
    ("checkout", "a", 600, 0.0, 0.0),
    ("checkout", "b", 400, 13.7, 0.5),
    ("search", "a", 300, 0.0, 0.0),
    ("catalog", "a", 200, 2.0, 0.0),
    ("ledger", "a", 100, 0.0, 0.0),
    ("archive", "a", 0, 0.0, 0.0),
]


def grid() -> Iterator[int]:
    yield from range(START, FINE_FROM, 5 * MINUTE)
    yield from range(FINE_FROM, END + 1, MINUTE)


def error_rate(service: str, ts: float) -> float:
    if service == "checkout":
        return 0.40 if OUTAGE[0] <= ts < OUTAGE[1] else 0.0005
    if service == "search":
        return 0.004 if ts >= SLOW_BURN_FROM else 0.0002
    if service == "catalog":
        return 0.001
    return 0.0003


def requests_between(service: str, per_minute: float, start: float, end: float) -> float:
    if service == "ledger" and start >= LEDGER_IDLE_FROM:
        return 0.0
    return per_minute * (end - start) / MINUTE


def _counter_samples(service, instance, per_minute, offset, jitter, rng) -> Iterator[tuple]:
    labels = f'service="{service}",instance="{instance}",job="web"'
    good = bad = 0.0
    previous = None
    for base in grid():
        ts = base + offset + (rng.uniform(-jitter, jitter) if jitter else 0.0)
        if previous is not None:
            count = requests_between(service, per_minute, previous, ts)
            count = round(count * rng.uniform(0.9, 1.1))
            errors = round(count * error_rate(service, ts) * rng.uniform(0.5, 1.5))
            good, bad = good + count - errors, bad + errors
        restarted = previous is not None and previous < RESET_AT <= ts
        if service == "checkout" and instance == "b" and restarted:
            good, bad = 0.0, 0.0  # the process restarted: its counters begin again
        previous = ts
        if service == "catalog" and GAP[0] < ts < GAP[1]:
            continue  # not scraped, but the requests still happened
        family = "http_requests"
        yield family, "counter", f'http_requests_total{{{labels},code="200"}}', ts, good
        yield family, "counter", f'http_requests_total{{{labels},code="500"}}', ts, bad


def _latency_samples(rng) -> Iterator[tuple]:
    for ts in grid():
        value = rng.uniform(0.15, 0.45)
        if rng.random() < 0.03:
            value = rng.uniform(0.6, 1.2)  # a slow minute
        family = "http_request_latency_p99_seconds"
        yield family, "gauge", f'{family}{{service="search",job="web"}}', float(ts), value


def generate() -> Iterator[tuple]:
    rng = random.Random(20260101)
    for target in TARGETS:
        yield from _counter_samples(*target, rng)
    yield from _latency_samples(rng)
