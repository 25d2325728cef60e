"""Catalog HTTP benchmark: request submissions per second through gunicorn, against the floor
of any audited write on the same server.

The production configuration: PostgreSQL (`--postgres`; SQLite under var/bench/ without it, for
the figures beside), persistent database connections (whatever the settings give: CONN_MAX_AGE
is reported as `conn_max_age`), gunicorn with 2 gthread workers of one thread each on
127.0.0.1 (bench/_http.py), and 16 clients over keep-alive connections. The benchmark creates
its own database and fills it with the shipped templates and policies, a team with a member
and an on-call engineer (API tokens).

In the same run, alternating in short slices so that whatever else the machine does weighs on
both alike:

- submit_rps:  POST /api/requests/, a low-risk namespace request through the whole path (JSON
               Schema validation, the four shipped policies, quota and budget reserved under
               lock, the audited transitions, the hand-off to provisioning: one Celery message to
               the embedded broker); submit_p95_ms is its latency seen by the clients;
- write_rps:   POST /api/incidents/ {title}, as on-call: authentication, one row and one audit
               event in one transaction, the JSON answer — the floor a submission cannot beat;
- ratio = submit_rps / write_rps; policy_p99_ms is the 99th percentile, over the submitted
  requests, of the time spent evaluating all policies for one request (stored decisions).

Checks (exit 1 on failure): every call answered as expected (201), each 201 left its row (the
requests and incidents stored equal the answers counted), every request its policy decisions,
and `audit_verify` passes at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import time

from _http import THREADS, WORKERS, Client, phase, start_gunicorn, stop
from _setup import (
    ROOT,
    Checks,
    arguments,
    finish,
    free_port,
    fresh_database,
    percentile,
    server_environment,
    setup_django,
)

WORK = ROOT / "var" / "bench" / "catalog_http"
CLIENTS = 16
ROUNDS = 4
# Asks the settings for persistent connections, if they read it; the figure reports what the
# settings actually gave (DATABASES["default"]["CONN_MAX_AGE"]).
PERSISTENT = {"DATABASE_CONN_MAX_AGE": "60"}


def environment(database_url: str) -> dict[str, str]:
    # Two bench users make thousands of calls a minute: measure throughput, not the limit.
    env = server_environment(WORK, database_url, SSOPS_API_RATE_USER="off", **PERSISTENT)
    env.pop("CELERY_BROKER_URL", None)  # the embedded filesystem broker, under WORK
    return env


def prepare(database_url: str) -> tuple[str, str, int]:
    """Migrate and fill the database; (member's token, on-call's token, CONN_MAX_AGE)."""
    env = environment(database_url)
    os.environ.update(env)
    setup_django(database_url)
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connections

    from accounts.services import personal_token_create
    from catalog.importer import catalog_import
    from catalog.services import budget_set, membership_set, quota_set, team_create
    from teams.choices import PlatformGroup

    call_command("migrate", verbosity=0)
    report = catalog_import(actor=None)
    assert report.ok, report.errors
    team = team_create(actor=None, slug="bench", name="Bench")
    User = get_user_model()
    member = User.objects.create_user("bench")
    membership_set(actor=None, team=team, user=member)
    quota_set(actor=None, team=team, kind="kubernetes-namespace", max_count=1_000_000)
    budget_set(actor=None, team=team, monthly_limit=10_000_000)
    oncall = User.objects.create_user("pager")
    oncall.groups.add(Group.objects.get_or_create(name=PlatformGroup.ONCALL)[0])
    tokens = tuple(
        str(personal_token_create(actor=None, user=user, name="bench", scopes=["write"]).key)
        for user in (member, oncall)
    )
    conn_max_age = settings.DATABASES["default"].get("CONN_MAX_AGE", 0)
    connections.close_all()
    return *tokens, conn_max_age


def check_rows(counted: dict[str, int], checks: Checks) -> float:
    """The rows the answers promise are there; returns the policy p99 in ms."""
    from django.core.management import call_command
    from django.core.management.base import CommandError
    from django.db.models import Count, Sum

    from audit.models import AuditEvent
    from catalog.models import Request
    from metrics.models import Incident

    requests = Request.objects.count()
    checks.expect(
        requests == counted["submit"], f"{requests} requests stored, {counted['submit']} answered"
    )
    incidents = Incident.objects.count()
    checks.expect(
        incidents == counted["write"], f"{incidents} incidents stored, {counted['write']} answered"
    )
    opened = AuditEvent.objects.filter(action="incident.opened").count()
    checks.expect(opened == incidents, f"{opened} incident.opened events for {incidents}")
    undecided = Request.objects.annotate(n=Count("decisions")).filter(n=0).count()
    checks.expect(undecided == 0, f"{undecided} requests without policy decisions")
    try:
        call_command("audit_verify", "--processes", "1", stdout=open(os.devnull, "w"))  # noqa: SIM115
    except CommandError as exc:
        checks.expect(False, f"audit_verify: {exc}")
    totals = list(
        Request.objects.annotate(policy_ms=Sum("decisions__latency_ms"))
        .exclude(policy_ms=None)
        .values_list("policy_ms", flat=True)
    )
    return statistics.quantiles(totals, n=100)[98] if len(totals) > 1 else totals[0]


def main() -> None:
    args = arguments(__doc__, postgres=True)
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    database_url = fresh_database("catalog_http", args.postgres)
    if args.smoke:
        seconds, limit, rounds = 1.0, 200, 1
    elif args.quick:
        seconds, limit, rounds = 8.0, 20_000, ROUNDS
    else:
        seconds, limit, rounds = 40.0, 400_000, ROUNDS
    member, oncall, conn_max_age = prepare(database_url)
    port = free_port()
    server = start_gunicorn(environment(database_url), WORK / "gunicorn.log", port)

    def clients(token: str) -> list[Client]:
        headers = {
            "Authorization": f"Token {token}",
            "Accept": "application/json",
            "Content-Type": "application/json",
        }
        return [Client(port, headers) for _ in range(CLIENTS)]

    submitters, writers = clients(member), clients(oncall)

    def submit(number: int, sequence: int):
        body = {
            "template": "kubernetes-namespace",
            "team": "bench",
            "parameters": {"name": f"b{time.monotonic_ns()}-{number}", "environment": "dev"},
        }
        return "POST", "/api/requests/", json.dumps(body).encode()

    def write(number: int, sequence: int):
        return "POST", "/api/incidents/", json.dumps({"title": f"bench {number}"}).encode()

    kinds = {"submit": (submitters, submit), "write": (writers, write)}
    totals = {kind: {"done": 0, "errors": 0, "seconds": 0.0, "latencies": []} for kind in kinds}
    unexpected: dict[str, dict[int, int]] = {kind: {} for kind in kinds}
    warmed: dict[str, int] = {}
    checks = Checks()
    try:
        for kind, (group, make) in kinds.items():  # warm both workers and every connection up
            warm = phase(group, make, 1.0, 4 * CLIENTS, 201)
            unexpected[kind].update(warm["unexpected"])
            warmed[kind] = warm["done"]
        for _ in range(rounds):
            for kind, (group, make) in kinds.items():
                result = phase(group, make, seconds / rounds, limit // rounds, 201)
                rps = result["done"] / result["seconds"]
                print(f"{kind}: {rps:.1f} calls/s", file=sys.stderr)
                total = totals[kind]
                for key in ("done", "errors", "seconds", "latencies"):
                    total[key] += result[key]
                for status, n in result["unexpected"].items():
                    unexpected[kind][status] = unexpected[kind].get(status, 0) + n
    finally:
        stop(server)
    for kind, statuses in unexpected.items():
        checks.expect(not statuses, f"{kind}: unexpected answers {statuses}; see gunicorn.log")
    counted = {kind: totals[kind]["done"] + warmed[kind] for kind in kinds}
    policy_p99 = check_rows(counted, checks)
    from django.db import connection

    submit_rps = totals["submit"]["done"] / totals["submit"]["seconds"]
    write_rps = totals["write"]["done"] / totals["write"]["seconds"]
    figures = {
        "database": connection.vendor,
        "conn_max_age": conn_max_age,
        "clients": CLIENTS,
        "workers": WORKERS,
        "threads": THREADS,
        "connections_opened": sum(c.connects for c in submitters + writers),
        "submit_calls": totals["submit"]["done"],
        "write_calls": totals["write"]["done"],
        "errors": totals["submit"]["errors"] + totals["write"]["errors"],
        "submit_rps": round(submit_rps, 1),
        "submit_p95_ms": round(percentile(totals["submit"]["latencies"], 0.95), 1),
        "write_rps": round(write_rps, 1),
        "write_p95_ms": round(percentile(totals["write"]["latencies"], 0.95), 1),
        "ratio": round(submit_rps / write_rps, 3),
        "policy_p99_ms": round(policy_p99, 3),
    }
    finish(figures, checks)


if __name__ == "__main__":
    main()
