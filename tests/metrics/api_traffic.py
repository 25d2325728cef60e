"""A day of SSOps's own request counters (ssops_http_requests_total) for a real Prometheus:
7 January 2026 with an hour either side, one sample every 5 minutes (289 steps over the day).

Per step: 100 API GETs answered 200, 1 API POST answered 503, and 50 page views answered 500
(not API requests: M1 must leave them out). Over the day the API answered 28,800 + 288 requests,
288 of them with a server error.

Changing this module changes the hash that keys the cached blocks, so they are rebuilt.
"""

from __future__ import annotations

from collections.abc import Iterator

DAY_START = 1_767_744_000  # 2026-01-07T00:00:00Z
STEP = 300
SERIES = (
    ('view="api:request-list",method="GET",status="200"', 100),
    ('view="api:request-list",method="POST",status="503"', 1),
    ('view="catalog:template-list",method="GET",status="500"', 50),
)
GOOD, BAD = 100 * 288, 1 * 288


def generate() -> Iterator[tuple]:
    for labels, per_step in SERIES:
        value = 5000.0  # counters well above zero, so no extrapolation stops at zero
        for ts in range(DAY_START - 3600, DAY_START + 86400 + 3601, STEP):
            yield (
                "ssops_http_requests",
                "counter",
                f"ssops_http_requests_total{{{labels}}}",
                ts,
                value,
            )
            value += per_step
