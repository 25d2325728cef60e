"""Shared start-up for benchmarks: arguments, a throwaway database, Django, and the last line.

Every benchmark takes `--quick` (within about a minute here; what `./run bench` runs) and
`--smoke` (a tiny run that goes through every step and check, for CI: its figures mean
nothing). Those that run on PostgreSQL take `--postgres SERVER_URL` and create their own
database on that server, named `<SSOPS_BENCH_DB_PREFIX><name>` (prefix `ssops_bench_` by
default), so that runs from several checkouts on one server do not collide.

A benchmark checks its own answers against its baseline's: `finish()` prints the figures as the
last line and exits 1 when any check failed, whatever the speed.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_SERVER = "postgresql://ssops:ssops@127.0.0.1:5432/postgres"


def arguments(description: str, *, postgres: bool = False, parser=None) -> argparse.Namespace:
    parser = parser or argparse.ArgumentParser(description=description.split("\n\n")[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument(
        "--quick", action="store_true", help="a smaller run that ends within about a minute"
    )
    size.add_argument(
        "--smoke", action="store_true", help="a tiny run through every step (CI); no figures"
    )
    if postgres:
        parser.add_argument(
            "--postgres",
            metavar="SERVER_URL",
            help="run on PostgreSQL: the benchmark creates (and drops first) its own database "
            f"on this server, e.g. {POSTGRES_SERVER}; default: SQLite under var/bench/",
        )
    return parser.parse_args()


def database_name(name: str) -> str:
    return os.environ.get("SSOPS_BENCH_DB_PREFIX", "ssops_bench_") + name


def setup_django(database_url: str, **settings: str) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ssops_site.settings")
    os.environ.setdefault("DJANGO_SECURE_SSL", "0")
    os.environ.setdefault("SSOPS_LOG_LEVEL", "WARNING")
    os.environ.update(settings)
    import django

    django.setup()


def fresh_database(name: str, postgres: str | None = None) -> str:
    """The URL of an empty database for benchmark `name`: a SQLite file var/bench/<name>.sqlite3
    (deleted first), or a database created on the `postgres` server."""
    if postgres:
        return fresh_postgres_database(postgres, database_name(name))
    path = ROOT / "var" / "bench" / f"{name}.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


def django_with_fresh_database(name: str, postgres: str | None = None) -> str:
    """Django on a fresh, migrated database for benchmark `name`; returns its vendor."""
    setup_django(fresh_database(name, postgres))
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    return connection.vendor


def django_with_fresh_sqlite(name: str) -> Path:
    """Point Django at var/bench/<name>.sqlite3 (deleted first), migrate, and return its path."""
    url = fresh_database(name)
    setup_django(url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return Path(url.removeprefix("sqlite:///"))


def percentile(values: list[float], share: float) -> float:
    """The value at `share` (0..1) of the sorted values, nearest rank."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(share * (len(ordered) - 1))))
    return ordered[rank]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fresh_postgres_database(server_url: str, name: str) -> str:
    """Drop and create the benchmark's own database `name` on that server; return its URL."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return server_url.rsplit("/", 1)[0] + "/" + name


def server_environment(work: Path, database_url: str, **settings: str) -> dict[str, str]:
    """The environment for the servers and workers a benchmark starts: this process's, without
    Prometheus's multiprocess directory, on the benchmark's own database and var/ directory,
    plain HTTP on 127.0.0.1, no tracing, warnings and worse logged; `settings` on top."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROMETHEUS_MULTIPROC")}
    env.update(
        DATABASE_URL=database_url,
        SSOPS_VAR_DIR=str(work / "var"),
        DJANGO_SETTINGS_MODULE="ssops_site.settings",
        DJANGO_SECURE_SSL="0",
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        SSOPS_LOG_LEVEL="WARNING",
        OTEL_TRACES_EXPORTER="none",
    )
    env.update(settings)
    return env


class Checks:
    """What the benchmark found wrong: answers that disagree with the baseline's, errors."""

    def __init__(self) -> None:
        self.failed: list[str] = []

    def expect(self, condition: bool, message: str) -> bool:
        if not condition:
            self.failed.append(message)
        return condition


def finish(figures: dict, checks: Checks) -> None:
    """Print the figures as the last line; exit 1 when a check failed (said on stderr)."""
    figures = {**figures, "checks_failed": len(checks.failed)}
    for message in checks.failed:
        print(f"CHECK FAILED: {message}", file=sys.stderr)
    print(json.dumps(figures))
    if checks.failed:
        sys.exit(1)
