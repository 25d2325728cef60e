"""SSOps's own Prometheus metrics (prefix ssops_) and the /metrics exposition.

With several gunicorn workers set PROMETHEUS_MULTIPROC_DIR so that /metrics sums all of them.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

HTTP_REQUESTS = Counter(
    "ssops_http_requests_total",
    "HTTP requests served by SSOps, by view, method and status code.",
    ["view", "method", "status"],
)
HTTP_DURATION = Histogram(
    "ssops_http_request_duration_seconds",
    "Time to serve an HTTP request, by view and method.",
    ["view", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


def exposition() -> tuple[bytes, str]:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
