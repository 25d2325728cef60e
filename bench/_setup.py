"""Shared start-up for benchmarks: a throwaway database under var/bench/ and Django set up."""

from __future__ import annotations

import argparse
import os
import socket
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def django_with_fresh_sqlite(name: str) -> Path:
    """Point Django at var/bench/<name>.sqlite3 (deleted first), migrate, and return its path."""
    sys.path.insert(0, str(ROOT))
    path = ROOT / "var" / "bench" / f"{name}.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ssops_site.settings")
    os.environ.setdefault("DJANGO_SECURE_SSL", "0")
    os.environ.setdefault("SSOPS_LOG_LEVEL", "WARNING")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    return path


def arguments(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--quick", action="store_true", help="a smaller run that ends within a minute"
    )
    return parser.parse_args()


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
