"""Load test: mixed traffic against SSOps on 127.0.0.1, then the invariants checked.

The script creates its own database (`ssops_bench_load` on the local PostgreSQL, the
`--postgres` server URL), migrates it, seeds the demo (so the dashboards have SLOs, metrics and
history to draw) and adds three teams of developers (payments, search, ledger; three each),
three approvers (approvers in all three teams), each with an API token, plus page sessions for
the developers, `exec` and `oncall`. Search keeps a tight namespace quota (25), so some of its
submissions are denied under load. Then it starts gunicorn (3 sync workers, a free port on
127.0.0.1, API rate limits off) and a real Celery worker (prefork, 2 processes) on Redis
(`--redis`, flushed first), and runs, from one thread per person, for `--seconds`:

- catalog:   developers browse the catalog pages (list, search, a template, its request form);
- submit:    developers file requests through the API — a namespace (low risk: approved at
             once and provisioned; no cluster here, so the manifests are stored as the run's
             artifact) or temporary elevated access (high risk: two approvers);
- approval:  approvers read their inbox and approve (or, one time in seven, reject) through
             the API;
- delete:    developers delete one of their namespaces (a teardown run gives the quota back);
- api_read:  developers read their requests, one request, their team's usage, resources, runs;
- executive, oncall: the two dashboards, as `exec` and `oncall` (7, 30 or 90 days; the
             on-call page and its self-refreshing part).

Each person waits a little between calls (think time), so this is a load, not a flood. When
the time is up the script waits (up to `--drain` seconds) for the worker to finish what was
queued, then checks: `manage.py audit_verify` exits 0; every quota and monthly-spend counter
equals the sum of the active reservations, no limit is exceeded, a reservation is active
exactly while its request holds resources, ready requests have live resources and finished
ones none; no request is left submitted, approved or provisioning and no run is open (stuck);
no response was a 5xx or a dropped connection.

The last line printed is one JSON object: requests_total, rps, errors_5xx, errors_other,
<kind>_p50_ms and <kind>_p95_ms for each kind, max_p95_ms, audit_chain_ok, quotas_ok, stuck,
and counts of what happened. The exit status is 1 when a check fails.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

import requests
from _setup import (
    POSTGRES_SERVER,
    database_name,
    free_port,
    fresh_postgres_database,
    percentile,
    server_environment,
)

ROOT = Path(__file__).resolve().parent.parent
DATABASE = database_name("load")
REDIS_URL = os.environ.get("SSOPS_BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
WORKERS = 3
TEAMS = ("payments", "search", "ledger")
DEVELOPERS_PER_TEAM = 3
APPROVERS = 3
SEARCH_NAMESPACE_LIMIT = 25
KINDS = ("catalog", "submit", "approval", "delete", "api_read", "executive", "oncall")
# Answers that are a normal outcome of concurrent people, not a fault: the request was moved
# by someone else first (409).
CONFLICT = 409


def environment(database_url: str, redis_url: str, work: Path) -> dict[str, str]:
    env = server_environment(
        work,
        database_url,
        # Errors only: every namespace warns that no cluster is configured.
        SSOPS_LOG_LEVEL="ERROR",
        CELERY_BROKER_URL=redis_url,
        SSOPS_CELERY_EAGER="0",
        # A dozen people making calls back to back: measure the platform, not the limiter.
        SSOPS_API_RATE_USER="off",
        SSOPS_API_RATE_ANON="off",
        SSOPS_PROVISION_RETRY_DELAY="1",
        PYTHONUNBUFFERED="1",
    )
    # No outside services: namespaces are rendered, validated and stored as the run's artifact.
    for name in ("SSOPS_KUBECONFIG", "SSOPS_CACHE_URL", "PROMETHEUS_URL", "ALERTMANAGER_URL"):
        env.pop(name, None)
    return env


# --- set-up (in this process, before the servers start) ---------------------------------------


def session_key(user) -> str:
    """A signed-in page session for `user`, as the login view would store it."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]  # the local password one
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store.session_key


def migrate() -> None:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def prepare() -> dict:
    """Seed the demo, add the load's people, quotas and budgets; who is who."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connections

    from accounts.services import personal_token_create
    from catalog.services import budget_set, membership_set, quota_set, team_create
    from teams.choices import TeamRole
    from teams.models import Team

    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    User = get_user_model()
    admin = User.objects.get(username="admin")
    teams = {team.slug: team for team in Team.objects.filter(slug__in=TEAMS)}
    if "ledger" not in teams:
        teams["ledger"] = team_create(
            actor=admin, slug="ledger", name="Ledger", cost_center="CC-1003"
        )
    unlimited = {"max_count": None, "max_cpu_millicores": None, "max_memory_mib": None}
    for team in teams.values():
        budget_set(actor=admin, team=team, monthly_limit=1_000_000)
        for kind in ("kubernetes-namespace", "elevated-access"):
            quota_set(actor=admin, team=team, kind=kind, **unlimited)
    quota_set(
        actor=admin,
        team=teams["search"],
        kind="kubernetes-namespace",
        max_count=SEARCH_NAMESPACE_LIMIT,
    )
    people: dict = {"developers": [], "approvers": []}
    for slug in TEAMS:
        for n in range(1, DEVELOPERS_PER_TEAM + 1):
            user = User.objects.create_user(f"{slug}-dev{n}")
            membership_set(actor=admin, team=teams[slug], user=user)
            token = str(
                personal_token_create(actor=None, user=user, name="load", scopes=["write"]).key
            )
            people["developers"].append(
                {
                    "username": user.username,
                    "team": slug,
                    "token": token,
                    "session": session_key(user),
                }
            )
    for n in range(1, APPROVERS + 1):
        user = User.objects.create_user(f"load-approver{n}")
        for slug in TEAMS:
            membership_set(actor=admin, team=teams[slug], user=user, role=TeamRole.APPROVER)
        people["approvers"].append(
            {
                "username": user.username,
                "token": str(
                    personal_token_create(
                        actor=None, user=user, name="load", scopes=["approve"]
                    ).key
                ),
            }
        )
    for username in ("exec", "oncall"):
        people[username] = {"session": session_key(User.objects.get(username=username))}
    connections.close_all()
    return people


def start(command: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def start_worker(env: dict, work: Path) -> subprocess.Popen:
    command = [str(Path(sys.executable).with_name("celery")), "-A", "ssops_site", "worker"]
    command += ["--pool=prefork", "--concurrency=2", "--loglevel=INFO"]
    command += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
    return start(command, env, work / "worker.log")


def start_server(env: dict, work: Path, port: int, workers: int) -> subprocess.Popen:
    command = [str(Path(sys.executable).with_name("gunicorn")), "ssops_site.wsgi"]
    command += ["--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
    command += ["--backlog", "256", "--timeout", "60", "--log-level", "warning"]
    return start(command, env, work / "gunicorn.log")


def worker_ready(work: Path):
    return lambda: " ready." in (work / "worker.log").read_text(errors="replace")


def server_ready(port: int):
    def healthy() -> bool:
        try:
            return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    return healthy


def wait_until_ready(process: subprocess.Popen, ready, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if ready():
            return
        time.sleep(0.2)
    raise SystemExit(f"{process.args[0]} did not start; see {log}")


def stop(process: subprocess.Popen, how: int = signal.SIGTERM) -> None:
    """Stop the process group (TERM: a Celery worker ends the tasks it holds first)."""
    if process.poll() is None:
        os.killpg(process.pid, how)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)
        process.wait(10)


# --- the people -------------------------------------------------------------------------------


class Recorder:
    """Every call's kind, status and milliseconds, from all threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.samples: dict[str, list[float]] = defaultdict(list)
        self.statuses: Counter = Counter()
        self.unexpected: Counter = Counter()
        self.other = 0  # unexpected answers that are neither 5xx nor a dropped connection
        self.events: Counter = Counter()

    def add(self, kind: str, status: int, ms: float, what: str, expected: tuple) -> None:
        with self.lock:
            self.samples[kind].append(ms)
            self.statuses[status] += 1
            if status not in expected and status != CONFLICT:
                self.unexpected[f"{status} {what}"] += 1
                self.other += 0 < status < 500

    def count(self, event: str) -> None:
        with self.lock:
            self.events[event] += 1


class Person(threading.Thread):
    """One person's loop of calls until `stop_at` (time.monotonic()), with think time."""

    think = (0.05, 0.4)

    def __init__(self, base: str, recorder: Recorder, stop_at: float, seed: int, **who):
        super().__init__(daemon=True)
        self.base, self.recorder, self.stop_at = base, recorder, stop_at
        self.random = random.Random(seed)
        self.who = who
        self.http = requests.Session()
        if "token" in who:
            self.http.headers["Authorization"] = f"Token {who['token']}"
        if "session" in who:
            self.http.cookies.set("sessionid", who["session"], domain="127.0.0.1")
        self.http.headers["Accept"] = "application/json"

    def call(self, kind, method, path, expected=(200,), what=None, **kwargs):
        """One call, timed and recorded; the response, or None when the connection failed."""
        started = time.perf_counter()
        try:
            response = self.http.request(
                method, self.base + path, timeout=60, allow_redirects=False, **kwargs
            )
        except requests.RequestException as exc:
            ms = (time.perf_counter() - started) * 1000
            self.recorder.add(kind, 0, ms, f"{method} {what or path}: {exc}", expected)
            return None
        ms = (time.perf_counter() - started) * 1000
        self.recorder.add(kind, response.status_code, ms, f"{method} {what or path}", expected)
        return response

    def page(self, kind, path, what=None, **headers):
        return self.call(kind, "GET", path, what=what, headers={"Accept": "text/html", **headers})

    def run(self):
        while time.monotonic() < self.stop_at:
            self.act()
            time.sleep(self.random.uniform(*self.think))

    def act(self):
        raise NotImplementedError


class Developer(Person):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filed: list[str] = []
        self.sequence = 0

    def act(self):
        choice = self.random.choices(
            [self.browse, self.submit, self.read, self.delete], weights=[25, 30, 35, 10]
        )[0]
        choice()

    def browse(self):
        slug = self.random.choice(["kubernetes-namespace", "elevated-access", "postgres-database"])
        path, what = self.random.choice(
            [
                ("/catalog/", None),
                ("/catalog/?q=database", None),
                (f"/catalog/{slug}/", "/catalog/<slug>/"),
                (f"/catalog/{slug}/request/", "/catalog/<slug>/request/"),
            ]
        )
        self.page("catalog", path, what)

    def submit(self):
        team, name = self.who["team"], self.who["username"]
        self.sequence += 1
        if self.random.random() < 0.7:
            body = {
                "template": "kubernetes-namespace",
                "team": team,
                "parameters": {
                    "name": f"{name}-{self.sequence}",
                    "environment": self.random.choice(["dev", "staging"]),
                    "cpu_millicores": self.random.choice([250, 500, 1000, 2000]),
                    "memory_mib": self.random.choice([256, 1024, 4096]),
                },
            }
        else:
            body = {
                "template": "elevated-access",
                "team": team,
                "parameters": {
                    "system": self.random.choice(["payments-db", "kubernetes-prod"]),
                    "role": self.random.choice(["read", "write"]),
                    "ticket": f"INC-{self.random.randint(1000, 9999)}",
                },
                "ttl_hours": self.random.choice([1, 2, 4]),
                "justification": "investigating an incident under load",
            }
        response = self.call("submit", "POST", "/api/requests/", (201,), json=body)
        if response is not None and response.status_code == 201:
            data = response.json()
            self.filed.append(data["uuid"])
            self.recorder.count(f"submitted {data['template']} → {data['state']}")

    def read(self):
        team = self.who["team"]
        paths = [
            ("/api/me/", None),
            ("/api/requests/?mine=true&limit=20", None),
            (f"/api/teams/{team}/usage/", "/api/teams/<slug>/usage/"),
            ("/api/resources/?mine=true&limit=20", None),
            ("/api/runs/?limit=20", None),
            (f"/api/requests/?team={team}&state=pending_approval&limit=20", None),
        ]
        if self.filed:
            uuid = self.random.choice(self.filed[-20:])
            paths.append((f"/api/requests/{uuid}/", "/api/requests/<uuid>/"))
        path, what = self.random.choice(paths)
        self.call("api_read", "GET", path, what=what)

    def delete(self):
        listing = self.call(
            "delete",
            "GET",
            "/api/resources/?mine=true&state=active&kind=kubernetes.namespace&limit=5",
        )
        if listing is None or listing.status_code != 200 or not listing.json()["results"]:
            return
        uuid = self.random.choice(listing.json()["results"])["uuid"]
        response = self.call(
            "delete",
            "POST",
            f"/api/resources/{uuid}/delete/",
            (202,),
            "/api/resources/<uuid>/delete/",
        )
        if response is not None:
            self.recorder.count(f"delete → {response.status_code}")


class Approver(Person):
    think = (0.2, 0.8)

    def act(self):
        inbox = self.call("approval", "GET", "/api/approvals/?limit=25")
        if inbox is None or inbox.status_code != 200:
            return
        # Only the load's own requests (the demo leaves a few waiting, for its pages).
        waiting = [r for r in inbox.json()["results"] if "-dev" in r["requester"]]
        if not waiting:
            return
        uuid = self.random.choice(waiting)["uuid"]
        verb = "reject" if self.random.random() < 1 / 7 else "approve"
        response = self.call(
            "approval",
            "POST",
            f"/api/requests/{uuid}/{verb}/",
            what=f"/api/requests/<uuid>/{verb}/",
            json={"comment": f"{verb}d under load"},
        )
        if response is not None:
            self.recorder.count(f"{verb} → {response.status_code}")


class Executive(Person):
    think = (0.5, 1.5)

    def act(self):
        if self.random.random() < 0.2:
            self.call("api_read", "GET", "/api/slos/?limit=50")
            return
        days = self.random.choice([7, 30, 90])
        self.page("executive", f"/dashboards/executive/?days={days}", "/dashboards/executive/")


class OnCall(Person):
    think = (0.5, 1.5)

    def act(self):
        if self.random.random() < 0.5:
            self.page("oncall", "/dashboards/oncall/")
        else:
            self.page(
                "oncall",
                "/dashboards/oncall/",
                "/dashboards/oncall/ (live)",
                **{"HX-Request": "true"},
            )


def load(base: str, people: dict, seconds: float, recorder: Recorder) -> float:
    stop_at = time.monotonic() + seconds
    threads: list[Person] = []
    for n, developer in enumerate(people["developers"]):
        threads.append(Developer(base, recorder, stop_at, n, **developer))
    for n, approver in enumerate(people["approvers"]):
        threads.append(Approver(base, recorder, stop_at, 100 + n, **approver))
    threads.append(Executive(base, recorder, stop_at, 200, **people["exec"]))
    threads.append(OnCall(base, recorder, stop_at, 300, **people["oncall"]))
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def warm_up(base: str, people: dict, workers: int) -> None:
    """Each gunicorn worker imports and connects before the clock starts (not recorded)."""
    developer = people["developers"][0]
    http = requests.Session()
    http.cookies.set("sessionid", developer["session"], domain="127.0.0.1")
    for _ in range(workers * 3):
        http.get(f"{base}/catalog/", timeout=60)
        http.get(f"{base}/api/me/", headers={"Authorization": f"Token {developer['token']}"})


# --- afterwards -------------------------------------------------------------------------------


def in_flight() -> tuple[int, int]:
    """(requests submitted, approved or provisioning; runs pending, running or undoing)."""
    from catalog.choices import RequestState
    from catalog.models.requests import Request
    from provisioning.models import ProvisioningRun
    from provisioning.models.runs import RUN_OPEN

    moving = (RequestState.SUBMITTED, RequestState.APPROVED, RequestState.PROVISIONING)
    return (
        Request.objects.filter(state__in=moving).count(),
        ProvisioningRun.objects.filter(state__in=RUN_OPEN).count(),
    )


def drain(limit: float) -> tuple[float, int]:
    """Wait until nothing is in flight (or `limit` seconds); (seconds waited, still in flight)."""
    started = time.monotonic()
    while True:
        stuck = sum(in_flight())
        waited = time.monotonic() - started
        if stuck == 0 or waited >= limit:
            return waited, stuck
        time.sleep(0.5)


def quota_problems() -> list[str]:
    """Counters against the reservations that should make them up, and reservations against
    the requests and resources that should hold them."""
    from django.db.models import Sum

    from catalog import lifecycle
    from catalog.choices import RequestState, ReservationState
    from catalog.models import DIMENSIONS, MonthlySpend, Quota, Request, Reservation
    from provisioning.choices import ResourceState
    from provisioning.models import Resource

    problems = []
    active = Reservation.objects.filter(state=ReservationState.ACTIVE)
    amounts = [amount for _, amount in DIMENSIONS]
    held = {
        (row["team_id"], row["kind"]): row
        for row in active.values("team_id", "kind").annotate(
            **{f"sum_{a}": Sum(a) for a in amounts}
        )
    }
    quotas = {(q.team_id, q.kind): q for q in Quota.objects.select_related("team")}
    for key in held.keys() - quotas.keys():
        problems.append(f"team {key[0]} holds {key[1]} reservations but has no quota row")
    for key, quota in quotas.items():
        row = held.get(key, {})
        for limit, amount in DIMENSIONS:
            expected = row.get(f"sum_{amount}") or 0
            if quota.used[amount] != expected:
                problems.append(
                    f"{quota}: used {amount} {quota.used[amount]}, reservations {expected}"
                )
            cap = getattr(quota, limit)
            if cap is not None and quota.used[amount] > cap:
                problems.append(f"{quota}: {amount} {quota.used[amount]} over its limit {cap}")
    costs = {
        (row["team_id"], row["period"]): row["total"]
        for row in active.values("team_id", "period").annotate(total=Sum("cost"))
    }
    for spend in MonthlySpend.objects.all():
        expected = costs.pop((spend.team_id, spend.period), 0)
        if spend.amount != expected:
            problems.append(f"spend {spend}: reservations sum to {expected}")
    problems += [
        f"reservations of team {t} in {p} cost {c} but no spend row"
        for (t, p), c in costs.items()
        if c
    ]
    holding = set(lifecycle.HOLDS_RESOURCES)
    wrong = active.exclude(request__state__in=holding).values_list(
        "request__uuid", "request__state"
    )
    problems += [
        f"request {uuid} is {state} but still holds its reservation" for uuid, state in wrong
    ]
    missing = (
        Request.objects.filter(state__in=holding)
        .exclude(reservation__state=ReservationState.ACTIVE)
        .values_list("uuid", "state")
    )
    problems += [
        f"request {uuid} is {state} without an active reservation" for uuid, state in missing
    ]
    bare = Request.objects.filter(state=RequestState.READY).exclude(
        resources__state=ResourceState.ACTIVE
    )
    problems += [
        f"request {uuid} is ready without a live resource"
        for uuid in bare.values_list("uuid", flat=True)
    ]
    done = (
        RequestState.DELETED,
        RequestState.ROLLED_BACK,
        RequestState.REJECTED,
        RequestState.CANCELLED,
    )
    left = Resource.objects.filter(state=ResourceState.ACTIVE, request__state__in=done)
    problems += [
        f"resource {r.uuid} is still active for a {r.request.state} request"
        for r in left.select_related("request")
    ]
    return problems


def audit_chain_ok(env: dict, work: Path) -> bool:
    result = subprocess.run(
        [sys.executable, "manage.py", "audit_verify"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    (work / "audit_verify.txt").write_text(result.stdout + result.stderr)
    print(f"audit_verify: {(result.stdout or result.stderr).strip()}", file=sys.stderr)
    return result.returncode == 0


def request_states() -> dict[str, int]:
    from django.db.models import Count

    from catalog.models import Request

    rows = Request.objects.values_list("state").annotate(n=Count("id")).order_by("state")
    return dict(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="20 s of load: done within a minute")
    size.add_argument("--smoke", action="store_true", help="5 s of load (CI); no figures")
    parser.add_argument("--seconds", type=float, help="seconds of load (default 180; --quick 20)")
    parser.add_argument("--drain", type=float, help="seconds to wait for the queue afterwards")
    parser.add_argument("--workers", type=int, default=WORKERS, help="gunicorn workers")
    parser.add_argument(
        "--postgres",
        default=POSTGRES_SERVER,
        help="an admin URL of the PostgreSQL server on which the benchmark's database is made",
    )
    parser.add_argument("--database", default=DATABASE, help="its name (dropped first)")
    parser.add_argument("--redis", default=REDIS_URL, help="the broker (a Redis db, flushed)")
    args = parser.parse_args()
    began = time.monotonic()
    seconds = args.seconds or (5.0 if args.smoke else 20.0 if args.quick else 180.0)
    drain_limit = args.drain if args.drain is not None else max(20.0, min(120.0, seconds))
    work = ROOT / "var" / "bench" / args.database
    work.mkdir(parents=True, exist_ok=True)
    for log in ("worker.log", "gunicorn.log"):
        (work / log).unlink(missing_ok=True)

    import redis

    redis.Redis.from_url(args.redis).flushdb()
    env = environment(fresh_postgres_database(args.postgres, args.database), args.redis, work)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    migrate()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    recorder = Recorder()
    # The servers start while the demo is seeded: they only need the tables.
    worker = start_worker(env, work)
    server = start_server(env, work, port, args.workers)
    try:
        people = prepare()
        wait_until_ready(worker, worker_ready(work), work / "worker.log")
        wait_until_ready(server, server_ready(port), work / "gunicorn.log")
        print(f"set up in {time.monotonic() - began:.1f} s", file=sys.stderr)
        warm_up(base, people, args.workers)
        print(f"load for {seconds:.0f} s on {base} ...", file=sys.stderr)
        elapsed = load(base, people, seconds, recorder)
        stop(server, signal.SIGINT)  # nothing in flight now: gunicorn's quick shutdown
        waited, _ = drain(drain_limit)
        print(f"drained in {waited:.1f} s", file=sys.stderr)
    finally:
        stop(server, signal.SIGINT)
        stop(worker)
    from django.db import connections

    requests_left, runs_left = in_flight()
    problems = quota_problems()
    states = request_states()
    connections.close_all()
    chain_ok = audit_chain_ok(env, work)
    print(f"checked at {time.monotonic() - began:.1f} s", file=sys.stderr)

    statuses = recorder.statuses
    total = sum(statuses.values())
    errors_5xx = sum(n for status, n in statuses.items() if status >= 500)
    dropped = statuses.get(0, 0)
    figures: dict = {
        "seconds": round(elapsed, 1),
        "clients": len(people["developers"]) + len(people["approvers"]) + 2,
        "workers": args.workers,
        "requests_total": total,
        "rps": round(total / elapsed, 1),
        "errors_5xx": errors_5xx,
        "errors_other": recorder.other,
        "dropped_connections": dropped,
        "conflicts_409": statuses.get(CONFLICT, 0),
    }
    for kind in KINDS:
        values = recorder.samples.get(kind) or [0.0]
        figures[f"{kind}_calls"] = len(recorder.samples.get(kind, []))
        figures[f"{kind}_p50_ms"] = round(percentile(values, 0.5), 1)
        figures[f"{kind}_p95_ms"] = round(percentile(values, 0.95), 1)
    figures["max_p95_ms"] = max(figures[f"{kind}_p95_ms"] for kind in KINDS)
    figures.update(
        requests_by_state=states,
        drain_seconds=round(waited, 1),
        audit_chain_ok=chain_ok,
        quotas_ok=not problems,
        stuck=requests_left + runs_left,
    )

    for event, n in sorted(recorder.events.items()):
        print(f"  {event}: {n}", file=sys.stderr)
    for what, n in recorder.unexpected.most_common(20):
        print(f"  unexpected answer {what}: {n}", file=sys.stderr)
    for problem in problems[:20]:
        print(f"  quota: {problem}", file=sys.stderr)
    if requests_left or runs_left:
        print(
            f"  stuck: {requests_left} requests in flight, {runs_left} runs open", file=sys.stderr
        )
    if errors_5xx or dropped:
        print(f"  see {work / 'gunicorn.log'} and {work / 'worker.log'}", file=sys.stderr)
    print(json.dumps(figures))
    failed = errors_5xx or dropped or recorder.other or problems or not chain_ok or figures["stuck"]
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
