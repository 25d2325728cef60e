"""bench/load.py in a tiny run (5 seconds of load), so that it does not rot: it builds its own
database, serves SSOps with gunicorn and a Celery worker, loads it, drains the queue, checks
the audit chain, quotas and stuck requests, and ends with the JSON line it promises."""

from __future__ import annotations

import os

import pytest

from tests.bench.conftest import postgres_server

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def test_a_short_load_passes_every_check(run_bench):
    status, figures, stderr = run_bench(
        "load",
        "--smoke",
        "--drain",
        "30",
        "--postgres",
        postgres_server(),
        "--database",
        f"bench_{os.environ.get('SSOPS_TEST_DB_SUFFIX', 'main')}_load_smoke",
        "--redis",
        os.environ.get("SSOPS_TEST_REDIS_URL", "redis://127.0.0.1:6379/15"),
    )
    assert status == 0, stderr[-3000:]
    assert figures["errors_5xx"] == 0
    assert figures["audit_chain_ok"] is True
    assert figures["quotas_ok"] is True
    assert figures["stuck"] == 0
    for kind in ("catalog", "submit", "approval", "api_read", "executive", "oncall"):
        assert figures[f"{kind}_calls"] > 0, kind
        assert 0 < figures[f"{kind}_p50_ms"] <= figures[f"{kind}_p95_ms"]
        assert figures[f"{kind}_p95_ms"] <= figures["max_p95_ms"]
    assert figures["requests_total"] > 0
