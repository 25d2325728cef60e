"""Catalog HTTP benchmark: request submissions per second through gunicorn.

One gunicorn (2 sync workers, 127.0.0.1 only, a free port) serves a throwaway SQLite database
that this script creates under var/bench/ and fills with the shipped templates and policies.
16 concurrent clients (bounded by time and by count) then call, in the same run:

- baseline_rps: GET /api/me/ — a trivial authenticated JSON view (token auth, the caller's
                teams and groups);
- submit_rps:   POST /api/requests/ — a low-risk namespace request through the whole path:
                JSON Schema validation, the four shipped policies (regopy), quota and budget
                reserved under lock, three audited transitions, the hand-off to provisioning
                (one Celery message to the embedded broker);

The two alternate in short slices so that whatever else the machine does weighs on both alike.
ratio = submit_rps / baseline_rps. policy_p99_ms is the 99th percentile, over the submitted
requests, of the time spent evaluating all policies for one request (from the stored
decisions). `--postgres URL` runs on a database the benchmark creates on that server instead.
The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from _setup import free_port, fresh_postgres_database, server_environment

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "var" / "bench" / "catalog_http"
CLIENTS = 16
ROUNDS = 4
WORKERS = 2


DATABASE_URL = f"sqlite:///{WORK / 'db.sqlite3'}"


def environment() -> dict[str, str]:
    # One bench user makes thousands of calls a minute: measure throughput, not the limit.
    env = server_environment(WORK, DATABASE_URL, SSOPS_API_RATE_USER="off")
    env.pop("CELERY_BROKER_URL", None)  # the embedded filesystem broker, under WORK
    return env


def prepare() -> str:
    """A fresh database with the shipped catalog, one member with a token; returns the token."""
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    os.environ.update(environment())
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connections

    from accounts.services import personal_token_create
    from catalog.importer import catalog_import
    from catalog.services import budget_set, membership_set, quota_set, team_create

    call_command("migrate", verbosity=0)
    report = catalog_import(actor=None)
    assert report.ok, report.errors
    team = team_create(actor=None, slug="bench", name="Bench")
    user = get_user_model().objects.create_user("bench")
    membership_set(actor=None, team=team, user=user)
    quota_set(actor=None, team=team, kind="kubernetes-namespace", max_count=1_000_000)
    budget_set(actor=None, team=team, monthly_limit=10_000_000)
    token = str(personal_token_create(actor=None, user=user, name="bench", scopes=["write"]).key)
    connections.close_all()
    return token


def start_server(port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "ssops_site.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(WORKERS),
            "--backlog",
            "256",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=environment(),
        stdout=subprocess.DEVNULL,
        stderr=open(WORK / "gunicorn.log", "w"),  # noqa: SIM115 (closed with the process)
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            status, _ = call(port, "GET", "/healthz", {})
            if status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not start; see var/bench/catalog_http/gunicorn.log")


def call(port: int, method: str, path: str, headers: dict, body: bytes | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def phase(port: int, make_request, seconds: float, limit: int, expected: int) -> dict:
    """CLIENTS threads call until `seconds` pass or `limit` calls are made in all."""
    lock = threading.Lock()
    counts = {"done": 0, "errors": 0, "issued": 0}
    start = threading.Barrier(CLIENTS + 1)
    stop_at = [0.0]

    def client(number: int) -> None:
        start.wait()
        sequence = 0
        while time.monotonic() < stop_at[0]:
            with lock:
                if counts["issued"] >= limit:
                    return
                counts["issued"] += 1
            sequence += 1
            method, path, headers, body = make_request(number, sequence)
            status, _ = call(port, method, path, headers, body)
            with lock:
                counts["done" if status == expected else "errors"] += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    stop_at[0] = time.monotonic() + seconds
    started = time.perf_counter()
    start.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return {"rps": counts["done"] / elapsed, **counts, "seconds": elapsed}


def policy_p99_ms() -> tuple[float, int]:
    from django.db.models import Sum

    from catalog.models import Request

    totals = list(
        Request.objects.annotate(policy_ms=Sum("decisions__latency_ms"))
        .exclude(policy_ms=None)
        .values_list("policy_ms", flat=True)
    )
    return statistics.quantiles(totals, n=100)[98], len(totals)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smaller run (under a minute)")
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="a PostgreSQL server URL (postgresql://USER:PASSWORD@HOST:PORT/ANY) on which the "
        "benchmark creates and drops its own database ssops_bench_catalog_http",
    )
    args = parser.parse_args()
    global DATABASE_URL
    if args.postgres:
        DATABASE_URL = fresh_postgres_database(args.postgres, "ssops_bench_catalog_http")
    seconds, limit = (8.0, 20_000) if args.quick else (30.0, 200_000)

    token = prepare()
    port = free_port()
    server = start_server(port)
    auth = {"Authorization": f"Token {token}", "Accept": "application/json"}
    json_auth = {**auth, "Content-Type": "application/json"}

    def baseline(number: int, sequence: int):
        return "GET", "/api/me/", auth, None

    def submit(number: int, sequence: int):
        body = {
            "template": "kubernetes-namespace",
            "team": "bench",
            "parameters": {"name": f"bench-{number}-{sequence}", "environment": "dev"},
        }
        return "POST", "/api/requests/", json_auth, json.dumps(body).encode()

    totals = {"baseline": [0, 0, 0.0], "submit": [0, 0, 0.0]}  # done, errors, seconds
    try:
        phase(port, baseline, 1.0, 200, 200)  # warm both workers up
        phase(port, submit, 1.0, 50, 201)
        # Alternate short slices of each, so that whatever else the machine does at the time
        # weighs on both figures alike.
        for _ in range(ROUNDS):
            for name, make, expected in (("baseline", baseline, 200), ("submit", submit, 201)):
                result = phase(port, make, seconds / ROUNDS, limit // ROUNDS, expected)
                print(f"{name}: {result['rps']:.1f} requests/s", file=sys.stderr)
                total = totals[name]
                total[0] += result["done"]
                total[1] += result["errors"]
                total[2] += result["seconds"]
    finally:
        server.terminate()
        server.wait(timeout=30)
    base = {
        "done": totals["baseline"][0],
        "errors": totals["baseline"][1],
        "rps": totals["baseline"][0] / totals["baseline"][2],
    }
    sub = {
        "done": totals["submit"][0],
        "errors": totals["submit"][1],
        "rps": totals["submit"][0] / totals["submit"][2],
    }
    p99, measured = policy_p99_ms()
    figures = {
        "clients": CLIENTS,
        "workers": WORKERS,
        "baseline_requests": base["done"],
        "submit_requests": sub["done"],
        "errors": base["errors"] + sub["errors"],
        "baseline_rps": round(base["rps"], 1),
        "submit_rps": round(sub["rps"], 1),
        "ratio": round(sub["rps"] / base["rps"], 3),
        "policy_p99_ms": round(p99, 3),
        "policy_requests_measured": measured,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
