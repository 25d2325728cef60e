"""Provisioning latency benchmark (the M2 figure): seconds from "approved" to "ready" for the
PostgreSQL template, end to end.

The script creates its own database `<prefix>provisioning` (prefix: SSOPS_BENCH_DB_PREFIX,
default `ssops_bench_`) on the local PostgreSQL (the `--postgres` server URL), migrates it,
publishes the shipped `postgres-database` 1.0.0 template with one change — its inventory
webhook points at a receiver this script runs on 127.0.0.1, since inventory.internal.example
does not exist here — and starts a real Celery worker (prefork, 2 processes) on Redis
(`--redis`, flushed first). Each request is filed by a member, approved by an approver, and then
provisioned by the worker: a real database and owning role on the same PostgreSQL (named
`<prefix>made_…`, dropped at the end), the password encrypted, then the signed webhook.
Requests go one after another, so the figure is latency, not queueing. Latency is read from
the request's timeline (the `approved` and `ready` rows).

The last line printed is one JSON object: requests, p50_seconds, p95_seconds, max_seconds,
mean_seconds, step_p50_ms (the database step alone). Checks (exit 1): every request ends ready
and the server holds a database for each of them. --smoke: two requests.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml
from _setup import (
    POSTGRES_SERVER,
    Checks,
    database_name,
    finish,
    fresh_postgres_database,
    percentile,
    server_environment,
)

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "var" / "bench" / "provisioning"
REDIS_URL = os.environ.get("SSOPS_BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
# What the worker creates (databases and roles) carries this prefix; dropped before and after.
PREFIX = database_name("made_")
DATABASE = database_name("provisioning")
SECRET = "bench-webhook-signing-key"


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (http.server's naming)
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def drop_prefixed(server_url: str) -> None:
    import psycopg
    from psycopg import sql

    pattern = PREFIX.replace("_", r"\_") + "%"
    with psycopg.connect(server_url, autocommit=True) as connection:
        for (name,) in connection.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", [pattern]
        ).fetchall():
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        for (name,) in connection.execute(
            "SELECT rolname FROM pg_roles WHERE rolname LIKE %s", [pattern]
        ).fetchall():
            connection.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))


def environment(database_url: str, server_url: str, hook: str, redis: str) -> dict[str, str]:
    return server_environment(
        WORK,
        database_url,
        CELERY_BROKER_URL=redis,
        SSOPS_CELERY_EAGER="0",
        SSOPS_PROVISION_POSTGRES_URL=server_url,
        SSOPS_PROVISION_PREFIX=PREFIX,
        SSOPS_WEBHOOK_URLS=hook,
        SSOPS_WEBHOOK_SECRET=SECRET,
    )


def prepare(hook: str):
    """Migrate, publish the template and policies, make the two users; (requester, approver)."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from catalog.importer import DEFAULT_ROOT, catalog_import
    from catalog.models import TemplateVersion
    from catalog.services import membership_set, quota_set, team_create, template_publish
    from catalog.template_spec import lint_template

    call_command("migrate", verbosity=0)
    assert catalog_import(actor=None, paths=[DEFAULT_ROOT / "policies"]).ok
    document = yaml.safe_load(
        (DEFAULT_ROOT / "templates" / "postgres-database-1.0.0.yaml").read_text()
    )
    for step in document["spec"]["steps"]:
        if step["action"] == "webhook.post":
            step["input"]["url"] = f"{hook}/hooks/databases"
    spec, errors = lint_template(document)
    assert not errors, errors
    template_publish(actor=None, spec=spec)
    assert TemplateVersion.objects.filter(template__slug="postgres-database").count() == 1
    team = team_create(actor=None, slug="bench", name="Bench")
    User = get_user_model()
    requester, approver = User.objects.create_user("dev"), User.objects.create_user("approver")
    membership_set(actor=None, team=team, user=requester)
    membership_set(actor=None, team=team, user=approver, role="approver")
    quota_set(actor=None, team=team, kind="postgres", max_count=100_000)
    return requester, approver


def start_worker(env: dict[str, str]) -> subprocess.Popen:
    log = (WORK / "worker.log").open("ab")
    worker = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("celery")),
            "-A",
            "ssops_site",
            "worker",
            "--pool=prefork",
            "--concurrency=2",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if worker.poll() is not None or " ready." in (WORK / "worker.log").read_text(
            errors="replace"
        ):
            break
        time.sleep(0.2)
    if worker.poll() is not None:
        raise SystemExit(f"the worker exited; see {WORK / 'worker.log'}")
    return worker


def provision_one(requester, approver, n: int) -> tuple[float, float]:
    """File, approve, wait for ready; (approved → ready seconds, database step ms)."""
    from catalog.models import Request, RequestTransition
    from catalog.services import request_approve, request_submit

    request = request_submit(
        actor=requester,
        template="postgres-database",
        team="bench",
        parameters={"name": f"bench-{n}", "size": "small", "environment": "dev"},
    )
    request_approve(request=request, actor=approver, comment="bench")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        state = Request.objects.filter(pk=request.pk).values_list("state", flat=True).get()
        if state in {"ready", "failed", "rolled_back"}:
            break
        time.sleep(0.05)
    if state != "ready":
        run = request.runs.first()
        raise SystemExit(f"request {n} ended {state}: {run.error if run else 'no run'}")
    at = dict(
        RequestTransition.objects.filter(
            request=request, to_state__in=["approved", "ready"]
        ).values_list("to_state", "created_at")
    )
    step = request.runs.get().steps.get(step_id="database")
    return (at["ready"] - at["approved"]).total_seconds(), step.duration_ms


def made_databases(server_url: str) -> set[str]:
    import psycopg

    pattern = PREFIX.replace("_", r"\_") + "%"
    with psycopg.connect(server_url, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", [pattern]
        ).fetchall()
    return {name for (name,) in rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="fewer requests (within a minute)")
    size.add_argument("--smoke", action="store_true", help="two requests (CI); no figures")
    parser.add_argument(
        "--postgres",
        default=POSTGRES_SERVER,
        help="an admin URL of the PostgreSQL server (SSOps's database and the new ones)",
    )
    parser.add_argument("--redis", default=REDIS_URL, help="the broker (a Redis db, flushed)")
    args = parser.parse_args()
    count = 2 if args.smoke else 12 if args.quick else 60
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / "worker.log").unlink(missing_ok=True)
    import redis

    redis.Redis.from_url(args.redis).flushdb()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    hook = f"http://127.0.0.1:{server.server_address[1]}"
    drop_prefixed(args.postgres)
    database_url = fresh_postgres_database(args.postgres, DATABASE)
    env = environment(database_url, args.postgres, hook, args.redis)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    requester, approver = prepare(hook)
    worker = start_worker(env)
    checks = Checks()
    try:
        provision_one(requester, approver, 0)  # warm-up: imports, connections, first fork
        results = [provision_one(requester, approver, n) for n in range(1, count + 1)]
        made = made_databases(args.postgres)
        checks.expect(
            len(made) == count + 1,
            f"{count + 1} requests ready but {len(made)} databases made: {sorted(made)[:5]}",
        )
    finally:
        os.killpg(worker.pid, 15)
        worker.wait(30)
        server.shutdown()
        from django.db import connections

        connections.close_all()
        drop_prefixed(args.postgres)
    latencies = [seconds for seconds, _ in results]
    figures = {
        "requests": count,
        "p50_seconds": round(statistics.median(latencies), 3),
        "p95_seconds": round(percentile(latencies, 0.95), 3),
        "max_seconds": round(max(latencies), 3),
        "mean_seconds": round(statistics.fmean(latencies), 3),
        "step_p50_ms": round(statistics.median(ms for _, ms in results), 1),
    }
    finish(figures, checks)


if __name__ == "__main__":
    main()
