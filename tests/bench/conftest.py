"""The benchmarks run as their own processes, on databases and Redis of this test run's own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def postgres_server() -> str:
    """The suite's PostgreSQL server (its maintenance database: a benchmark makes its own)."""
    db = settings.DATABASES["default"]
    return (
        f"postgresql://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/postgres"
    )


def on_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


@pytest.fixture
def run_bench():
    """run_bench(name, *arguments) → (exit status, figures of the last line, stderr)."""

    def run(name: str, *arguments: str, timeout: float = 240):
        env = dict(os.environ)
        # Benchmarks' databases named after this run, so that parallel runs do not collide.
        env["SSOPS_BENCH_DB_PREFIX"] = f"bench_{os.environ.get('SSOPS_TEST_DB_SUFFIX', 'main')}_"
        env["SSOPS_BENCH_REDIS_URL"] = os.environ.get(
            "SSOPS_TEST_REDIS_URL", "redis://127.0.0.1:6379/15"
        )
        # Not the suite's settings and database (tests/settings.py sets some of these).
        for own in (
            "DATABASE_URL",
            "DJANGO_SETTINGS_MODULE",
            "DJANGO_ALLOWED_HOSTS",
            "SSOPS_VAR_DIR",
            "SSOPS_CELERY_EAGER",
            "SSOPS_API_RATE_USER",
            "SSOPS_API_RATE_ANON",
        ):
            env.pop(own, None)
        finished = subprocess.run(
            [sys.executable, f"bench/{name}.py", *arguments],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        lines = finished.stdout.strip().splitlines()
        figures = json.loads(lines[-1]) if lines else None
        return finished.returncode, figures, finished.stderr

    return run
