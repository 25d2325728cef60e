"""A database made before the apps were split (core, teams, provisioning, metrics, demo) migrates
with today's code without losing a row: the models that moved keep their tables, and the audit
chain, with its signed checkpoint, still verifies.

The dumps under tests/fixtures/ were made by `migrate`, `seed_demo` and `audit_checkpoint` with
the code before the split (tests/fixtures/README.md). Each runs in a database of its own.
"""

from __future__ import annotations

import gzip
import os
import sqlite3
import subprocess
import sys
import uuid
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
SECRET_KEY = "old-house-fixture-key-not-a-secret-0123456789abcdefghijklmnop"
# The columns that went: a runbook run's decisions are linked from provisioning now, and an
# incident names its SLOs in a many-to-many table (its one SLO moved there).
DROPPED = {"catalog_policydecision": {"runbook_run_id"}, "slo_incident": {"slo_id"}}


def manage(database_url: str, var_dir: Path, *args: str) -> subprocess.CompletedProcess:
    own = ("DJANGO_", "DATABASE_", "SSOPS_")
    environ = {k: v for k, v in os.environ.items() if not k.startswith(own)}
    environ.update(
        DATABASE_URL=database_url,
        SSOPS_VAR_DIR=str(var_dir),
        DJANGO_SECRET_KEY=SECRET_KEY,
        DJANGO_DEBUG="1",
        DJANGO_ALLOWED_HOSTS="testserver",
        DJANGO_SETTINGS_MODULE="ssops_site.settings",
    )
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
    )


def snapshot(query) -> dict[str, tuple[int, set[str]]]:
    """Every table of SSOps's apps: its row count and its columns."""
    return {
        table: (query(f'SELECT count(*) FROM "{table}"')[0][0], columns)
        for table, columns in query.tables().items()
    }


class SQLite:
    def __init__(self, path: Path):
        self.path = path

    def __call__(self, sql: str):
        with sqlite3.connect(self.path) as db:
            return db.execute(sql).fetchall()

    def tables(self) -> dict[str, set[str]]:
        names = [
            name
            for (name,) in self("SELECT name FROM sqlite_master WHERE type = 'table'")
            if name.split("_")[0] in {"catalog", "slo", "audit", "ssops", "auth", "authtoken"}
        ]
        return {name: {row[1] for row in self(f'PRAGMA table_info("{name}")')} for name in names}


class PostgreSQL:
    def __init__(self, url: str):
        self.url = url

    def __call__(self, sql: str):
        with psycopg.connect(self.url) as db:
            return db.execute(sql).fetchall()

    def tables(self) -> dict[str, set[str]]:
        rows = self(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public'"
        )
        found: dict[str, set[str]] = {}
        for table, column in rows:
            if table.split("_")[0] in {"catalog", "slo", "audit", "ssops", "auth", "authtoken"}:
                found.setdefault(table, set()).add(column)
        return found


# SSOps's own SLOs added since the dumps were made; a migration installs them (one audit event
# each), next to the three seed_demo made then.
OWN_SLOS_SINCE = {"ssops-api-latency", "ssops-provisioning-success"}


def check_migrated(query, database_url: str, var_dir: Path) -> None:
    before = snapshot(query)
    assert before["catalog_team"][0] and before["audit_auditevent"][0] and before["slo_slo"][0]
    own_before = {name for (name,) in query("SELECT name FROM slo_slo WHERE name LIKE 'ssops-%'")}
    assert own_before and not own_before & OWN_SLOS_SINCE
    migrated = manage(database_url, var_dir, "migrate", "--no-input")
    assert migrated.returncode == 0, migrated.stderr
    after = snapshot(query)
    added = {"slo_slo": len(OWN_SLOS_SINCE), "audit_auditevent": len(OWN_SLOS_SINCE)}
    for table, (rows, columns) in before.items():
        assert table in after, f"{table} is gone"
        # New models add their permissions, the migration the new own SLOs; nothing else.
        grown = (
            after[table][0] >= rows
            if table == "auth_permission"
            else after[table][0] == rows + added.get(table, 0)
        )
        assert grown, f"{table}: {rows} rows before, {after[table][0]} after"
        assert columns - DROPPED.get(table, set()) <= after[table][1], f"{table} lost columns"
    # Django now files the moved tables under their new apps, with the same content types.
    labels = dict(query("SELECT model, app_label FROM django_content_type"))
    assert (labels["team"], labels["resource"], labels["incident"], labels["jobrun"]) == (
        "teams",
        "provisioning",
        "metrics",
        "core",
    )
    verified = manage(database_url, var_dir, "audit_verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "chain intact" in verified.stdout and "1 checkpoints" in verified.stdout
    # And today's code works on it: the demo's pages and API read the moved rows.
    checked = manage(database_url, var_dir, "shell", "--no-imports", "-c", READS)
    assert checked.returncode == 0, checked.stderr
    # The demo's incident named checkout-availability: its SLO is among its linked SLOs now.
    assert checked.stdout.split() == ["payments", "True", "True", "checkout-availability"], (
        checked.stdout
    )


READS = """
from django.test import Client
from django.contrib.auth import get_user_model
from teams.models import Team
client = Client()
client.force_login(get_user_model().objects.get(username="admin"))
print(Team.objects.order_by("slug").first().slug)
print(client.get("/api/teams/").status_code == 200)
print(client.get("/dashboards/executive/").status_code == 200)
from metrics.models import Incident
print(",".join(sorted(s.name for i in Incident.objects.all() for s in i.slos.all())) or "-")
"""


@pytest.mark.once
def test_a_sqlite_database_from_before_the_split_keeps_every_row(tmp_path):
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as db:
        db.executescript(
            gzip.decompress(
                (FIXTURES / "seed_demo_before_house.sqlite.sql.gz").read_bytes()
            ).decode()
        )
    check_migrated(SQLite(path), f"sqlite:///{path}", tmp_path)


@contextmanager
def postgres_database(prefix: str):
    """A new, empty database on the test PostgreSQL server (its URL), dropped afterwards."""
    server = os.environ["SSOPS_TEST_POSTGRES_URL"]
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.postgres
def test_a_postgresql_database_from_before_the_split_keeps_every_row(tmp_path):
    with postgres_database("house") as url:
        dump = gzip.decompress(
            (FIXTURES / "seed_demo_before_house.postgresql.sql.gz").read_bytes()
        ).decode()
        loaded = subprocess.run(
            ["psql", "-q", "-v", "ON_ERROR_STOP=1", url], input=dump, text=True, capture_output=True
        )
        assert loaded.returncode == 0, loaded.stderr
        check_migrated(PostgreSQL(url), url, tmp_path)
