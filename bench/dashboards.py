"""Dashboard benchmark: every dashboard page served by gunicorn over HTTP, signed in, on a large
data set, on SQLite and (--postgres) PostgreSQL; cold and warm.

The data set (bench/dashboards_data.py): 100,000 catalog requests over 90 days, 1,000,000
audit events in a valid hash chain, 500 SLOs with 30 days of hourly snapshots, alerts, M1-M12
snapshots, budgets, job runs, API counts and spans; cached — a SQLite file under var/bench/, or
the database `<prefix>dashboards` on the server — keyed by a hash of its generator, its size
and the migrations, so reruns start at once.

gunicorn (2 gthread workers, keep-alive) serves it with every worker's clock held at the moment
the data was built (bench/_held_clock.py). One client signs in as an executive (who sees every
team: the largest pages) through the login form and keeps its connection alive:

- cold: the first request to each page after gunicorn starts and the client has signed in
  (the application is loaded; first templates, queries and connections are included);
  `--starts` starts (3 with --quick, 10 without), the order of the pages rotated from one
  start to the next; cold_p95_ms per page over the starts;
- warm: then `--rounds` requests per page (20 with --quick, 60 without) after four warm-ups;
  p50 and p95.

The last line: per-page warm and cold p95, max_warm_p95_ms (target: at most 300),
max_cold_p95_ms and slowest_page. Checks (exit 1): every answer is a 200 page of its own, not
the login form.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import _setup
import dashboards_data
import requests
from _http import start_gunicorn, stop

ROOT = _setup.ROOT
WORK = ROOT / "var" / "bench"
HELD_CLOCK = Path(__file__).with_name("_held_clock.py")


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, help="warm requests per page")
    parser.add_argument("--starts", type=int, help="gunicorn starts for the cold figures")
    parser.add_argument("--rebuild", action="store_true", help="build the data set again")
    return _setup.arguments(__doc__, postgres=True, parser=parser)


def generator_key(vendor: str, scale: dashboards_data.Scale) -> str:
    """What the cached database depends on: the generator, the scale and every migration."""
    source = Path(dashboards_data.__file__).read_bytes()
    digest = hashlib.sha256(source + repr((vendor, scale)).encode())
    for path in sorted(ROOT.glob("*/migrations/0*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


# --- measuring ---------------------------------------------------------------------------------


def pages(meta: dict) -> dict[str, str]:
    return {
        "executive_30d": "/dashboards/executive/?days=30",
        "executive_90d": "/dashboards/executive/?days=90",
        "oncall": "/dashboards/oncall/",
        "debug": f"/dashboards/debug/{meta['debug_request']}/",
        "slo": f"/dashboards/slos/{meta['slo']}/",
        "audit": "/audit/",
    }


def signed_in(base: str) -> requests.Session:
    """A keep-alive session signed in as `exec` through the login form."""
    session = requests.Session()
    form = session.get(f"{base}/accounts/login/", timeout=60)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    answer = session.post(
        f"{base}/accounts/login/",
        data={"username": "exec", "password": "bench", "csrfmiddlewaretoken": token},
        headers={"Referer": f"{base}/accounts/login/"},
        timeout=60,
        allow_redirects=False,
    )
    if answer.status_code != 302:
        raise SystemExit(f"signing in failed: {answer.status_code}")
    return session


def fetch(session: requests.Session, base: str, url: str, checks: _setup.Checks) -> float:
    """One page; its time in ms. A page that is not a 200 page of its own fails a check."""
    started = time.perf_counter()
    response = session.get(base + url, timeout=120, allow_redirects=False)
    took = (time.perf_counter() - started) * 1000
    checks.expect(response.status_code == 200, f"{url}: {response.status_code}")
    checks.expect(
        'class="logout"' in response.text, f"{url}: not a signed-in page (the login form?)"
    )
    return took


def serve(env: dict[str, str], log: Path) -> tuple[subprocess.Popen, str]:
    port = _setup.free_port()
    return start_gunicorn(env, log, port, config=HELD_CLOCK), f"http://127.0.0.1:{port}"


def measure(meta: dict, env: dict[str, str], rounds: int, starts: int, checks) -> dict:
    urls = pages(meta)
    names = list(urls)
    cold: dict[str, list[float]] = {name: [] for name in names}
    warm: dict[str, list[float]] = {name: [] for name in names}
    log = WORK / "dashboards-gunicorn.log"
    for start in range(starts):
        server, base = serve(env, log)
        try:
            session = signed_in(base)
            order = names[start % len(names) :] + names[: start % len(names)]
            for name in order:
                cold[name].append(fetch(session, base, urls[name], checks))
            if start < starts - 1:
                continue
            for name in names:
                for _ in range(4):  # both workers have rendered it
                    fetch(session, base, urls[name], checks)
                warm[name] = [fetch(session, base, urls[name], checks) for _ in range(rounds)]
        finally:
            stop(server)
    figures = {}
    for name in names:
        figures[name] = {
            "warm_p50_ms": round(statistics.median(warm[name]), 1),
            "warm_p95_ms": round(_setup.percentile(warm[name], 0.95), 1),
            "cold_p95_ms": round(_setup.percentile(cold[name], 0.95), 1),
        }
        f = figures[name]
        print(
            f"{name:15s} warm p50 {f['warm_p50_ms']:7.1f} ms  p95 {f['warm_p95_ms']:7.1f} ms  "
            f"cold p95 {f['cold_p95_ms']:7.1f} ms  ({urls[name]})",
            file=sys.stderr,
        )
    return figures


def cached_database(args, scale: dashboards_data.Scale) -> tuple[str, dict, bool, float]:
    """The data set's database URL, its facts, whether it was built now, and the seconds taken."""
    vendor = "postgresql" if args.postgres else "sqlite"
    key = generator_key(vendor, scale)
    meta_path = WORK / f"dashboards-{vendor}-{key}.json"
    if vendor == "sqlite":
        url = f"sqlite:///{WORK / f'dashboards-{key}.sqlite3'}"
    else:
        url = args.postgres.rsplit("/", 1)[0] + "/" + _setup.database_name("dashboards")
    fresh = args.rebuild or not meta_path.exists() or not _exists(url)
    started = time.perf_counter()
    if fresh:
        for old in [*WORK.glob(f"dashboards-{vendor}-*.json"), *WORK.glob("dashboards-*.sqlite3*")]:
            if vendor == "sqlite" or old.suffix == ".json":
                old.unlink()
        if vendor == "postgresql":
            url = _setup.fresh_postgres_database(args.postgres, _setup.database_name("dashboards"))
    _setup.setup_django(url, SSOPS_VAR_DIR=str(WORK / "dashboards-var"))
    if fresh:
        meta_path.write_text(
            json.dumps(dashboards_data.build(datetime.now(UTC).replace(microsecond=0), scale))
        )
    return url, json.loads(meta_path.read_text()), fresh, time.perf_counter() - started


def _exists(url: str) -> bool:
    if url.startswith("sqlite:///"):
        return Path(url.removeprefix("sqlite:///")).exists()
    import psycopg

    try:
        psycopg.connect(url).close()
    except psycopg.OperationalError:
        return False
    return True


def main() -> None:
    args = arguments()
    scale = dashboards_data.SMOKE if args.smoke else dashboards_data.FULL
    rounds = args.rounds or (3 if args.smoke else 20 if args.quick else 60)
    starts = args.starts or (1 if args.smoke else 3 if args.quick else 10)
    WORK.mkdir(parents=True, exist_ok=True)
    url, meta, fresh, build_seconds = cached_database(args, scale)
    from django.db import connection, connections

    vendor = connection.vendor
    connections.close_all()
    env = _setup.server_environment(
        WORK / "dashboards-http",
        url,
        SSOPS_BENCH_NOW=meta["now"],
        SSOPS_API_RATE_USER="off",
        SSOPS_LOGIN_FAILURE_LIMIT="1000",
    )
    checks = _setup.Checks()
    figures = measure(meta, env, rounds, starts, checks)
    slowest = max(figures, key=lambda name: figures[name]["warm_p95_ms"])
    result = {
        "database": vendor,
        **{f"{name}_warm_p95_ms": f["warm_p95_ms"] for name, f in figures.items()},
        **{f"{name}_cold_p95_ms": f["cold_p95_ms"] for name, f in figures.items()},
        "max_warm_p95_ms": figures[slowest]["warm_p95_ms"],
        "max_cold_p95_ms": max(f["cold_p95_ms"] for f in figures.values()),
        "slowest_page": slowest,
        "rounds": rounds,
        "starts": starts,
        "data_set_built": fresh,
        "data_set_seconds": round(build_seconds, 1),
        "requests": scale.requests,
        "audit_events": scale.audit_events,
        "slos": scale.slos,
    }
    _setup.finish(result, checks)


if __name__ == "__main__":
    main()
