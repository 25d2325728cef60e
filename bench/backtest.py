"""Backtest benchmark: one SLO's alert rules replayed over 30 days of history at a one-minute
step, end to end (`manage.py slo_backtest NAME --days 30 --json`: the SLO read from the
database, its history from a real Prometheus, the maths, the JSON).

A workload of `bench_requests_total{instance, code}` counters scraped every minute (two instances,
so four series) for 60 days — the 30 days replayed and the 30-day SLO window before them — with
an outage and a slow burn to page and ticket on, is backfilled with promtool (cached under
var/bench/prometheus-blocks/) and served by a Prometheus on a free port. Figures, best of three:

- exact_seconds:  the exact path (the counters' raw samples read once, every window's
                  increase() at every minute computed by SSOps); target under 5 s for 30 days;
- promql_seconds: the same SLI written as expressions Prometheus evaluates (`sum(rate(...[
                  {{.window}}])) or on() vector(0)`): one range query per expression and
                  window;
- moments, samples (per series), pages and tickets found.

The two paths are two ways of computing the same SLI: their episodes (severity, first and last
minute) must be the same, or the benchmark exits 1, whatever the speed.

--quick: 30 days as the full run, the promql path timed once instead of best of three;
--smoke: 2 days replayed over a 2-day window, each path once.
"""

from __future__ import annotations

import io
import json
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from _setup import ROOT, arguments, django_with_fresh_sqlite

sys.path.insert(0, str(ROOT))

from tests.services.prometheus import PrometheusServer, cached_blocks  # noqa: E402

END = 1_767_225_600  # 2026-01-01T00:00:00Z
DAY = 86400
OUTAGE = (END - 2 * DAY, END - 2 * DAY + 1200)  # 20 minutes of 30 % errors
SLOW_BURN = END - 5 * DAY  # 0.3 % errors (three times the budget of 99.9 %) from here on


def generate(days: int):
    rng = random.Random(days)
    for instance, per_minute in (("a", 600), ("b", 400)):
        good = bad = 0.0
        for ts in range(END - days * DAY, END + 1, 60):
            if ts >= OUTAGE[0] and ts < OUTAGE[1]:
                share = 0.30
            else:
                share = 0.003 if ts >= SLOW_BURN else 0.0004
            count = round(per_minute * rng.uniform(0.9, 1.1))
            errors = round(count * share * rng.uniform(0.5, 1.5))
            good, bad = good + count - errors, bad + errors
            labels = f'instance="{instance}"'
            for code, value in (("200", good), ("500", bad)):
                series = f'bench_requests_total{{{labels},code="{code}"}}'
                yield "bench_requests", "counter", series, float(ts), value


def create_slos(window: str) -> None:
    from slo.models import SLO, Service
    from teams.models import Team

    team = Team.objects.create(slug="bench", name="Bench")
    service = Service.objects.create(name="bench", team=team)
    common = {"service": service, "team": team, "objective": 0.999, "window_duration": window}
    slos = [
        SLO(
            name="bench-exact",
            numerator_query='sum(bench_requests_total{code="500"})',
            total_query="sum(bench_requests_total)",
            **common,
        ),
        SLO(
            name="bench-promql",
            # `or on() vector(0)` is not a counter term: Prometheus evaluates this SLI.
            numerator_query='sum(rate(bench_requests_total{code="500"}[{{.window}}])) '
            "or on() vector(0)",
            total_query="sum(rate(bench_requests_total[{{.window}}]))",
            **common,
        ),
    ]
    for slo in slos:
        slo.full_clean()
        slo.save()
    # Beside SSOps's own SLOs, which the migrations create.
    ours = SLO.objects.filter(name__startswith="bench-").order_by("name")
    assert [s.evaluation for s in ours] == ["exact", "promql"]


def backtest(name: str, days: int) -> tuple[float, dict]:
    from django.core.management import call_command

    out = io.StringIO()
    at = datetime.fromtimestamp(END, UTC).isoformat()
    started = time.perf_counter()
    call_command("slo_backtest", name, "--days", str(days), "--at", at, "--json", stdout=out)
    return time.perf_counter() - started, json.loads(out.getvalue())


def main() -> None:
    args = arguments(__doc__)
    days = 2 if args.smoke else 30
    history = 2 * days
    started = time.perf_counter()
    blocks = cached_blocks(
        f"bench-backtest-{history}d",
        lambda: generate(history),
        cache=ROOT / "var" / "bench" / "prometheus-blocks",
    )
    backfill_seconds = time.perf_counter() - started
    django_with_fresh_sqlite("backtest")
    from django.conf import settings

    server = PrometheusServer(Path(tempfile.mkdtemp(prefix="backtest-bench-")), blocks).start()
    settings.PROMETHEUS_URL = server.url
    try:
        create_slos(f"{days}d")
        figures = {}
        results = {}
        for path in ("exact", "promql"):
            repeats = 1 if args.smoke or (args.quick and path == "promql") else 3
            runs = [backtest(f"bench-{path}", days) for _ in range(repeats)]
            figures[f"{path}_seconds"] = round(min(seconds for seconds, _ in runs), 3)
            results[path] = runs[0][1]
    finally:
        server.stop()
    found = {
        path: {
            severity: sum(1 for a in result["alerts"] if a["severity"] == severity)
            for severity in ("page", "ticket")
        }
        for path, result in results.items()
    }
    episodes = {
        path: [(a["severity"], a["start"], a["end"]) for a in result["alerts"]]
        for path, result in results.items()
    }
    figures.update(
        days=days,
        moments=days * 1440 + 1,
        series=4,
        samples_per_series=history * 1440 + 1,
        pages=found["exact"]["page"],
        tickets=found["exact"]["ticket"],
        paths_agree=episodes["exact"] == episodes["promql"],
        backfill_seconds=round(backfill_seconds, 1),
    )
    figures["checks_failed"] = 0 if figures["paths_agree"] else 1
    print(json.dumps(figures))
    if not figures["paths_agree"]:
        print(
            f"the paths disagree: exact {episodes['exact']}, promql {episodes['promql']}",
            file=sys.stderr,
        )
        sys.exit(1)


if __name__ == "__main__":
    main()
