"""bench/load.py in a tiny run (5 seconds of load), so that it does not rot: it builds its own
database, serves SSOps with gunicorn and a Celery worker, loads it, drains the queue, checks
the audit chain, quotas and stuck requests, and ends with the JSON line it promises."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def server_url() -> str:
    """The suite's PostgreSQL server (its maintenance database: the bench makes its own)."""
    db = settings.DATABASES["default"]
    return (
        f"postgresql://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/postgres"
    )


def test_a_short_load_passes_every_check():
    result = subprocess.run(
        [
            sys.executable,
            "bench/load.py",
            "--seconds",
            "5",
            "--drain",
            "30",
            "--postgres",
            server_url(),
            "--database",
            "ssops_bench_load_smoke",
            "--redis",
            "redis://127.0.0.1:6379/14",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["errors_5xx"] == 0
    assert figures["audit_chain_ok"] is True
    assert figures["quotas_ok"] is True
    assert figures["stuck"] == 0
    for kind in ("catalog", "submit", "approval", "api_read", "executive", "oncall"):
        assert figures[f"{kind}_calls"] > 0, kind
        assert 0 < figures[f"{kind}_p50_ms"] <= figures[f"{kind}_p95_ms"]
        assert figures[f"{kind}_p95_ms"] <= figures["max_p95_ms"]
    assert figures["requests_total"] > 0
