"""The data set behind bench/dashboards.py, kept apart from it so that editing the benchmark
does not build the cached data set again (it is keyed by this module's source).

20 teams, 100,000 catalog requests over 90 days (each with its transitions and a policy
decision; runs and steps for those that were provisioned), 1,000,000 audit events in a valid
hash chain (two per request, the rest logins), 500 SLOs with 30 days of hourly snapshots (plus
the last hour by the minute), alerts, M1-M12 daily snapshots for every team over 90 days,
budgets, beat job runs, API request counts and the spans of the most recent requests. Written
with bulk inserts (COPY on PostgreSQL; the chain hashed here, its generated columns filled by
the database); PostgreSQL's tables are analysed afterwards, as autovacuum would.
"""

from __future__ import annotations

import json
import random
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

TEAMS = 20
SNAPSHOT_DAYS = 30
SEED = 7


@dataclass(frozen=True)
class Scale:
    requests: int
    audit_events: int
    slos: int
    traced_requests: int


FULL = Scale(requests=100_000, audit_events=1_000_000, slos=500, traced_requests=2_000)
SMOKE = Scale(requests=400, audit_events=2_000, slos=10, traced_requests=20)
SCALE = FULL  # main() sets it
STATES = (
    ("ready", 60),
    ("expired", 10),
    ("denied", 8),
    ("failed", 5),
    ("rolled_back", 2),
    ("rejected", 3),
    ("cancelled", 5),
    ("pending_approval", 3),
    ("approved", 2),
    ("provisioning", 2),
)
BURNS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")


# --- building the data set -------------------------------------------------------------------


def _stored(field):
    """How the database takes a value of this field, without Django's per-value checks: JSON as
    text; on SQLite the text Django writes (naive UTC timestamps, UUIDs as 32 hex digits), on
    PostgreSQL what COPY reads from psycopg's own adaptation."""
    from django.db import connection, models

    if isinstance(field, models.JSONField):
        return lambda v: json.dumps(v)
    if connection.vendor == "postgresql":
        return lambda v: v
    if isinstance(field, models.DateTimeField):
        return lambda v: None if v is None else str(v.astimezone(UTC).replace(tzinfo=None))
    if isinstance(field, models.UUIDField):
        return lambda v: v.hex
    if isinstance(field, models.BooleanField | models.CharField | models.TextField):
        return lambda v: v
    if isinstance(field, models.IntegerField | models.FloatField | models.ForeignKey):
        return lambda v: v
    return lambda v: field.get_db_prep_save(v, connection)


def write_rows(table: str, columns: list[str], rows, batch: int = 20_000) -> int:
    """Rows (sequences of stored values) into a table: COPY on PostgreSQL, executemany in
    batches on SQLite."""
    from django.db import connection

    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    count = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
            return count
        sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(columns))})"
        chunk = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= batch:
                cursor.executemany(sql, chunk)
                count, chunk = count + len(chunk), []
        if chunk:
            cursor.executemany(sql, chunk)
            count += len(chunk)
    return count


@contextmanager
def indexes_dropped(*models):
    """Build big tables without their secondary indexes, then index them once (sorting once
    is far faster than a million random B-tree inserts)."""
    from django.db import connection

    with connection.schema_editor() as editor:
        for model in models:
            for index in model._meta.indexes:
                editor.remove_index(model, index)
    yield
    with connection.schema_editor() as editor:
        for model in models:
            for index in model._meta.indexes:
                editor.add_index(model, index)


def insert(model, rows) -> int:
    """Rows (dicts by attribute name) into the model's table; fields left out take their
    default."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key and not f.generated]
    defaults = {f.attname: f.get_default() for f in fields}
    plan = [(f.attname, _stored(f)) for f in fields]
    return write_rows(
        model._meta.db_table,
        [f.column for f in fields],
        ([convert({**defaults, **row}[name]) for name, convert in plan] for row in rows),
    )


def timed(step, *args):
    started = time.perf_counter()
    result = step(*args)
    print(f"{step.__name__}: {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return result


def build(now: datetime, scale: Scale) -> dict:
    """Build the data set at `now` in the (migrated) database Django points at; the facts the
    benchmark needs (now, the traced request, an SLO)."""
    global SCALE
    SCALE = scale
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from django.db import connection, transaction

    call_command("migrate", verbosity=0)
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.execute("PRAGMA cache_size=-1000000")  # 1 GB while building
    rng = random.Random(SEED)
    started = time.perf_counter()
    from audit.models import AuditEvent
    from catalog.models import PolicyDecision, Request, RequestTransition
    from provisioning.models import ProvisioningRun
    from slo.models import Snapshot

    big = (AuditEvent, Request, RequestTransition, PolicyDecision, Snapshot, ProvisioningRun)
    with indexes_dropped(*big), transaction.atomic():
        from catalog.importer import catalog_import
        from teams.models import Membership, Team

        catalog_import(actor=None)
        teams = [Team.objects.create(slug=f"team-{i:02d}", name=f"Team {i}") for i in range(TEAMS)]
        boss = User.objects.create_user("exec", password="bench")
        boss.groups.add(Group.objects.get_or_create(name="executive")[0])
        pager = User.objects.create_user("oncall")  # only exec signs in: one password hash
        pager.groups.add(Group.objects.get_or_create(name="oncall")[0])
        developers = []
        for i, team in enumerate(teams):
            user = User.objects.create_user(f"dev{i:02d}")
            Membership.objects.create(team=team, user=user, role="member")
            developers.append(user)
        requests = timed(add_requests, rng, now, teams, developers)
        timed(add_audit_chain, rng, now, requests)
        timed(add_spans, rng, now, requests)
        slo_name = timed(add_slos, rng, now, teams)
        timed(add_platform_records, rng, now, teams)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # what autovacuum does after a bulk load
    print(f"built the data set in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    # The debug page of the latest request that was provisioned (traced, with a run and steps).
    traced = next(r for r in reversed(requests) if r[2] in RUN_STATES)
    return {"now": now.isoformat(), "debug_request": str(traced[0]), "slo": slo_name}


def add_requests(rng, now, teams, developers) -> list[tuple]:
    """The requests, their transitions and one policy decision each; returns (uuid, team id,
    state, created) of each, oldest first."""
    from catalog.models import (
        PolicyDecision,
        PolicyVersion,
        Request,
        RequestTransition,
        TemplateVersion,
    )

    versions = list(TemplateVersion.objects.values_list("id", flat=True))
    policy = PolicyVersion.objects.order_by("id").first()
    states = [state for state, weight in STATES for _ in range(weight)]
    span = 90 * 86400
    made = []
    for _ in range(SCALE.requests):
        created = now - timedelta(seconds=rng.random() * span)
        team = rng.randrange(TEAMS)
        made.append(
            (uuid.UUID(int=rng.getrandbits(128), version=4), team, rng.choice(states), created)
        )
    made.sort(key=lambda r: r[3])
    insert(
        Request,
        (
            {
                "uuid": key,
                "template_version_id": versions[i % len(versions)],
                "team_id": teams[team].pk,
                "requester_id": developers[team].pk,
                "parameters": {"name": f"r{i}"},
                "ttl_hours": 24,
                "state": state,
                "risk_tier": "low",
                "approval_due_at": created + timedelta(hours=24),
                "deny_reasons": ["a production change needs a ticket"] if state == "denied" else [],
                "created_at": created,
                "updated_at": created + timedelta(minutes=2),
            }
            for i, (key, team, state, created) in enumerate(made)
        ),
    )
    ids = dict(Request.objects.values_list("uuid", "id"))
    insert(
        RequestTransition,
        (
            row
            for key, _, state, created in made
            for row in (
                {"request_id": ids[key], "to_state": "submitted", "created_at": created},
                {
                    "request_id": ids[key],
                    "from_state": "submitted",
                    "to_state": state,
                    "created_at": created + timedelta(minutes=2),
                },
            )
        ),
    )
    insert(
        PolicyDecision,
        (
            {
                "request_id": ids[key],
                "policy_version_id": policy.pk,
                "mode": "enforce",
                "outcome": "deny" if state == "denied" else "allow",
                "enforced": True,
                "deny": ["a production change needs a ticket"] if state == "denied" else [],
                "input_digest": "0" * 64,
                "latency_ms": 0.5,
                "created_at": created,
            }
            for key, _, state, created in made
        ),
    )
    add_runs(rng, made, ids)
    return [(key, teams[team].pk, state, created) for key, team, state, created in made]


RUN_STATES = {
    "ready": "succeeded",
    "expired": "succeeded",
    "failed": "failed",
    "rolled_back": "rolled_back",
    "provisioning": "running",
}


def add_runs(rng, made, ids) -> None:
    """A provision run with two steps (namespace, database) for each request that reached
    provisioning; the database step of a failed run failed after three attempts."""
    from provisioning.models import ProvisioningRun, RunStep

    insert(
        ProvisioningRun,
        (
            {
                "uuid": uuid.UUID(int=rng.getrandbits(128), version=4),
                "kind": "provision",
                "request_id": ids[key],
                "template": "postgres-database",
                "state": RUN_STATES[state],
                "error": "step db failed: role exists"
                if state in ("failed", "rolled_back")
                else "",
                "created_at": created + timedelta(minutes=2),
                "started_at": created + timedelta(minutes=2),
                "finished_at": None if state == "provisioning" else created + timedelta(minutes=3),
                "updated_at": created + timedelta(minutes=3),
            }
            for key, _, state, created in made
            if state in RUN_STATES
        ),
    )
    # Read whole before writing: COPY holds the connection that a cursor would read through.
    runs = list(ProvisioningRun.objects.values_list("id", "state", "started_at"))

    def steps():
        for run_id, state, started in runs:
            for position, (step_id, action) in enumerate(
                (("ns", "kubernetes.namespace"), ("db", "postgres.database")), start=1
            ):
                failed = position == 2 and state in ("failed", "rolled_back")
                begun = started + timedelta(seconds=position * 5)
                yield {
                    "uuid": uuid.UUID(int=rng.getrandbits(128), version=4),
                    "run_id": run_id,
                    "position": position,
                    "step_id": step_id,
                    "name": step_id,
                    "action": action,
                    "state": "failed"
                    if failed
                    else ("running" if state == "running" else "succeeded"),
                    "attempts": 3 if failed else 1,
                    "error": "role exists" if failed else "",
                    "log": [
                        {"at": begun.isoformat(), "level": "info", "message": f"apply {step_id}"}
                    ],
                    "started_at": begun,
                    "finished_at": begun + timedelta(seconds=4),
                    "duration_ms": 4000.0,
                }

    insert(RunStep, steps())


def add_audit_chain(rng, now, requests) -> None:
    """SCALE.audit_events events in one valid chain: two per request (in the request's trace), the
    rest logins between them."""
    from django.db import connection

    from audit import chain

    per_request = 2
    logins_each = (SCALE.audit_events - per_request * len(requests)) // len(requests)
    with connection.cursor() as cursor:  # the catalog import appended its own events first
        cursor.execute("SELECT seq, hash FROM audit_auditevent ORDER BY seq DESC LIMIT 1")
        seq, head = cursor.fetchone() or (0, chain.GENESIS)

    def contents():
        for key, team_id, state, created in requests:
            trace = key.hex
            for n, action in enumerate(("request.submitted", f"request.{state}")):
                yield {
                    "v": 1,
                    "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    "ts": (created + timedelta(seconds=n)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                    "actor_id": None,
                    "actor": "system",
                    "action": action,
                    "object_type": "catalog.request",
                    "object_id": str(key),
                    "team_id": team_id,
                    "request_id": trace[:16],
                    "trace_id": trace,
                    "payload": {"state": state},
                }
            for n in range(logins_each):
                yield {
                    "v": 1,
                    "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    "ts": (created + timedelta(seconds=2 + n)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                    "actor_id": None,
                    "actor": "system",
                    "action": "auth.login",
                    "object_type": "auth.user",
                    "object_id": str(n),
                    "team_id": None,
                    "request_id": "",
                    "trace_id": "",
                    "payload": {},
                }

    def linked():
        nonlocal seq, head
        for content in contents():
            body = chain.canonical_body(content)
            digest = chain.link_hash(head, body)
            seq += 1
            yield seq, body, head, digest
            head = digest

    write_rows("audit_auditevent", ["seq", "body", "prev_hash", "hash"], linked())


def add_spans(rng, now, requests) -> None:
    """The trace of each of the latest requests (web, policy, Celery, backend), and API server
    spans over the last three hours."""
    from core.models import TraceSpan

    def spans():
        for key, _, _, created in requests[-SCALE.traced_requests :]:
            trace = key.hex
            parts = (
                ("1", "", "POST api/requests/", "SERVER", 0, 80, {}),
                ("2", "1", "policy.evaluate", "INTERNAL", 10, 3, {}),
                (
                    "3",
                    "1",
                    "apply_async/provisioning.tasks.provision_request",
                    "PRODUCER",
                    60,
                    2,
                    {},
                ),
                ("4", "3", "run/provisioning.tasks.provision_request", "CONSUMER", 90, 400, {}),
                (
                    "5",
                    "4",
                    "kubernetes create namespace",
                    "CLIENT",
                    100,
                    250,
                    {"ssops.backend": "kubernetes"},
                ),
            )
            for span_id, parent, name, kind, offset, length, attributes in parts:
                yield {
                    "trace_id": trace,
                    "span_id": span_id.rjust(16, "0"),
                    "parent_id": parent.rjust(16, "0") if parent else "",
                    "name": name,
                    "kind": kind,
                    "start": created + timedelta(milliseconds=offset),
                    "end": created + timedelta(milliseconds=offset + length),
                    "duration_ms": float(length),
                    "attributes": attributes,
                }
        for n in range(3 * 60 * 10):
            start = now - timedelta(seconds=n * 6)
            yield {
                "trace_id": f"{rng.getrandbits(128):032x}",
                "span_id": "1".rjust(16, "0"),
                "name": "GET api/requests/",
                "kind": "SERVER",
                "start": start,
                "end": start + timedelta(milliseconds=20),
                "duration_ms": rng.uniform(5, 120),
                "attributes": {},
            }

    insert(TraceSpan, spans())


def add_slos(rng, now, teams) -> str:
    """SCALE.slos SLOs over the teams, with hourly snapshots over SNAPSHOT_DAYS days and the last
    hour by the minute; some burning, a few whose Prometheus is unreachable."""
    from slo.models import SLO, AlertEvent, AlertState, Service, Snapshot

    hour = now.replace(minute=0, second=0, microsecond=0)
    services = [Service.objects.create(name=f"svc-{t.slug}", team=t) for t in teams]
    slos = SLO.objects.bulk_create(
        SLO(
            name=f"{services[i % TEAMS].name}-{i:03d}",
            service=services[i % TEAMS],
            team=teams[i % TEAMS],
            objective=rng.choice([0.99, 0.995, 0.999]),
            numerator_query=f'http_requests_total{{service="s{i}",code=~"5.."}}',
            total_query=f'http_requests_total{{service="s{i}"}}',
            runbook_url="https://runbooks.example.test/slo",
            data_status="unavailable" if i % 50 == 0 else "ok",
            data_status_since=now - timedelta(minutes=40),
            data_status_detail="Prometheus at http://prometheus:9090 is unreachable: refused"
            if i % 50 == 0
            else "",
            evaluated_at=now,
        )
        for i in range(SCALE.slos)
    )

    def snapshots():
        moments = [hour - timedelta(hours=h) for h in range(SNAPSHOT_DAYS * 24)]
        minute = now.replace(second=0, microsecond=0)
        moments = sorted({*moments, *(minute - timedelta(minutes=m) for m in range(1, 60))})
        for slo in slos:
            level = rng.uniform(-0.3, 1.0)
            for at in moments:
                burn = max(0.0, rng.gauss(1.0 - level, 0.5))
                yield {
                    "slo_id": slo.pk,
                    "at": at,
                    "data_status": "ok",
                    "sli": 1 - (1 - slo.objective) * burn,
                    "error_budget_remaining": level,
                    "burn_rates": {w: round(burn * rng.uniform(0.5, 2), 3) for w in BURNS},
                    "alerts": [],
                    "time_to_exhaustion": 86400.0 * max(level, 0) / max(burn, 0.01),
                }

    insert(Snapshot, snapshots())
    for i, slo in enumerate(slos[:40]):
        severity = "page" if i % 2 else "ticket"
        since = now - timedelta(minutes=10 + i)
        AlertState.objects.create(
            slo=slo, severity=severity, firing=True, since=since, windows=["1h/5m"]
        )
    insert(
        AlertEvent,
        (
            {
                "slo_id": slo.pk,
                "severity": "page" if n % 2 else "ticket",
                "kind": "fired" if n % 2 else "resolved",
                "at": now - timedelta(hours=n * 7),
                "windows": ["1h/5m"],
                "burn_rates": {"1h": 15.0},
            }
            for slo in slos
            for n in range(5)
        ),
    )
    return slos[1].name


def add_platform_records(rng, now, teams) -> None:
    from catalog.models import Budget, MonthlySpend
    from catalog.services.quotas import month_start
    from core.models import ApiRequestCount, JobLock, JobRun
    from metrics import catalogue
    from metrics.models import BudgetAlert, MetricSnapshot

    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    insert(
        MetricSnapshot,
        (
            {
                "metric": metric.key,
                "period_kind": "day",
                "period_start": today - timedelta(days=d),
                "period_end": today - timedelta(days=d - 1),
                "team_id": team,
                "value": rng.uniform(0.98, 1.0)
                if metric.unit == catalogue.RATIO
                else rng.uniform(1, 100),
                "extras": {"currency": "EUR"},
                "data_status": "ok",
                "complete": d > 0,
                "computed_at": now,
            }
            for metric in catalogue.METRICS
            for d in range(90)
            for team in [None] + ([t.pk for t in teams] if metric.scope == catalogue.TEAM else [])
        ),
    )
    month = month_start(now)
    for team in teams:
        limit = rng.choice([1000, 5000, 20000])
        Budget.objects.create(team=team, monthly_limit=limit)
        MonthlySpend.objects.create(team=team, period=month, amount=limit * rng.uniform(0.1, 1.2))
        burn = rng.uniform(0.2, 3)
        BudgetAlert.objects.create(
            team=team,
            month=month,
            firing=burn > 2,
            since=now if burn > 2 else None,
            burn_rate=burn,
            spend=limit * burn / 3,
            budgeted_so_far=limit / 3,
            monthly_limit=limit,
            currency="EUR",
            covered_until=now,
            evaluated_at=now,
        )
    jobs = [
        "slo.tasks.evaluate",
        "slo.tasks.deliver_alerts",
        "metrics.tasks.probe_catalog",
        "catalog.tasks.expire_requests",
        "audit.tasks.checkpoint",
        "metrics.tasks.platform_metrics",
    ]
    for name in jobs:
        JobLock.objects.create(name=name)
    insert(
        JobRun,
        (
            {
                "name": jobs[n % len(jobs)],
                "started_at": now - timedelta(minutes=n // len(jobs)),
                "finished_at": now - timedelta(minutes=n // len(jobs)),
                "duration_ms": rng.uniform(5, 900),
                "outcome": "failed" if rng.random() < 0.02 else "ok",
                "error": "",
            }
            for n in range(30_000)
        ),
    )
    minute = int(now.timestamp()) // 60 * 60
    insert(
        ApiRequestCount,
        (
            {
                "minute": minute - 60 * m,
                "span": 60,
                "view": view,
                "method": "GET",
                "status": status,
                "count": rng.randint(1, 50) if status == "200" else rng.randint(0, 1),
            }
            for m in range(3 * 1440)
            for view in ("api:request-list", "api:template-list", "api:me")
            for status in ("200", "503")
        ),
    )
