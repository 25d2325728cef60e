"""SLO evaluation benchmark: many SLOs over 30 days of data in a real Prometheus.

A workload of `bench_requests_total{service, code}` counters (every 10 minutes for 31 days,
then every minute for the last day) is backfilled with promtool (cached under
var/bench/prometheus-blocks/) and served by a Prometheus on a free port. SLOs — several per
service, with different objectives, windows (30d, 28d, 14d, 7d) and good or bad counters — are
stored in a throwaway SQLite database, then, in the same run:

- seconds:       `manage.py slo_evaluate --json` end to end (SLOs read from the database, one
                 grouped query per metric and window, the maths, the JSON), best of three;
- naive_seconds: the naive way, one PromQL query per SLO per window
                 ((sum(increase(bad[w])) or vector(0)) / sum(increase(total[w]))), sequential;
- speedup = naive_seconds / seconds; max_rel_diff compares the burn rates of both ways.

--quick: 200 SLOs over 50 services. Without it: 200 and 1,000 SLOs over 100 services (the last
line's figures are for 1,000, those for 200 under "at_200").

"mixed": the same exact-path SLOs beside SLOs on the promql path (expressions Prometheus
evaluates: a clamped error rate per service, and one definition grouped by service), at two
sizes; the queries Prometheus received per evaluation (its own request counter) stay the same
when the promql SLOs are multiplied, as they share their expressions: one query per distinct
expression and window.
"""

from __future__ import annotations

import io
import json
import math
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
# (numerator kind, numerator matcher, window, objective): the kinds of SLO each service gets.
VARIANTS = [
    ("bad", 'code="500"', "30d", 0.999),
    ("good", 'code="200"', "28d", 0.995),
    ("bad", 'code=~"5.."', "7d", 0.99),
    ("good", 'code!~"5.."', "30d", 0.9995),
    ("bad", 'code="500"', "14d", 0.999),
    ("bad", 'code=~"5.."', "30d", 0.99),
    ("good", 'code="200"', "7d", 0.999),
    ("bad", 'code="500"', "28d", 0.9999),
    ("good", 'code!~"5.."', "14d", 0.99),
    ("bad", 'code=~"5.."', "28d", 0.995),
]


def generate(services: int):
    rng = random.Random(services)
    grid = [*range(END - 31 * DAY, END - DAY, 600), *range(END - DAY, END + 1, 60)]
    for index in range(services):
        service = f"svc-{index:03d}"
        rate = rng.uniform(50, 500)  # requests per minute
        error_share = rng.choice([0.0002, 0.001, 0.004])
        good = bad = 0.0
        previous = grid[0]
        for ts in grid:
            minutes = (ts - previous) / 60
            errors = rate * minutes * error_share * rng.uniform(0.5, 1.5)
            good, bad = good + rate * minutes - errors, bad + errors
            previous = ts
            for code, value in (("200", good), ("500", bad)):
                series = f'bench_requests_total{{service="{service}",code="{code}"}}'
                yield "bench_requests", "counter", series, float(ts), round(value, 3)


def create_slos(count: int, services: int) -> None:
    from slo.models import SLO, Service
    from teams.models import Team

    SLO.objects.all().delete()
    Service.objects.all().delete()
    team, _ = Team.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
    service_rows = Service.objects.bulk_create(
        [Service(name=f"svc-{i:03d}", team=team) for i in range(services)]
    )
    slos = []
    for number in range(count):
        service = service_rows[number % services]
        kind, matcher, window, objective = VARIANTS[number // services % len(VARIANTS)]
        selector = f'bench_requests_total{{service="{service.name}"'
        slos.append(
            SLO(
                name=f"{service.name}-{number // services}",
                service=service,
                team=team,
                objective=objective,
                window_duration=window,
                numerator_kind=kind,
                numerator_query=f"{selector},{matcher}}}",
                total_query=f"{selector}}}",
            )
        )
    SLO.objects.bulk_create(slos)


def evaluate_end_to_end() -> tuple[float, list[dict]]:
    from django.core.management import call_command

    out = io.StringIO()
    at = datetime.fromtimestamp(END, UTC).isoformat()
    started = time.perf_counter()
    call_command("slo_evaluate", "--json", "--at", at, stdout=out)
    seconds = time.perf_counter() - started
    return seconds, json.loads(out.getvalue())


def evaluate_naively(url: str) -> tuple[float, dict[str, dict[str, float | None]], int]:
    """One query per SLO per window, each answered by Prometheus alone."""
    from slo import maths
    from slo.models import SLO
    from slo.sources.prometheus import PrometheusSource

    source = PrometheusSource(url, timeout=30)
    burns: dict[str, dict[str, float | None]] = {}
    queries = 0
    started = time.perf_counter()
    for slo in SLO.objects.order_by("name"):
        burns[slo.name] = {}
        for label in [*maths.BURN_WINDOWS, slo.window_duration]:
            ratio = (
                f"(sum(increase({slo.numerator_query}[{label}])) or vector(0))"
                f" / sum(increase({slo.total_query}[{label}]))"
            )
            promql = ratio if slo.numerator_kind == "bad" else f"1 - {ratio}"
            found = source.instant(promql, END)
            queries += 1
            value = found[0][1] if found else None
            ok = value is not None and not math.isnan(value)
            burns[slo.name][label] = value / (1 - slo.objective) if ok else None
    return time.perf_counter() - started, burns, queries


def measure(count: int, services: int, url: str) -> dict:
    create_slos(count, services)
    evaluate_end_to_end()  # warm-up: caches, first connections
    seconds, results = min(evaluate_end_to_end() for _ in range(3))
    naive_seconds, naive, naive_queries = evaluate_naively(url)
    worst = 0.0
    for result in results:
        for window, rate in result["burn_rates"].items():
            other = naive[result["name"]][window]
            assert (rate is None) == (other is None), (result["name"], window, rate, other)
            if rate is not None and other:
                worst = max(worst, abs(rate - other) / abs(other))
    assert all(r["data_status"] == "ok" for r in results)
    return {
        "slos": count,
        "seconds": round(seconds, 3),
        "naive_seconds": round(naive_seconds, 3),
        "speedup": round(naive_seconds / seconds, 1),
        "naive_queries": naive_queries,
        "max_rel_diff": worst,
    }


def main() -> None:
    args = arguments(__doc__)
    services = 50 if args.quick else 100
    started = time.perf_counter()
    blocks = cached_blocks(
        f"bench-slo-{services}",
        lambda: generate(services),
        cache=ROOT / "var" / "bench" / "prometheus-blocks",
    )
    backfill_seconds = time.perf_counter() - started
    django_with_fresh_sqlite("slo_eval")
    from django.conf import settings

    server = PrometheusServer(Path(tempfile.mkdtemp(prefix="slo-bench-")), blocks).start()
    settings.PROMETHEUS_URL = server.url
    try:
        figures = measure(200, services, server.url)
        if not args.quick:
            figures = {**measure(1000, services, server.url), "at_200": figures}
        figures["mixed"] = measure_mixed(200, services, server.url, quick=args.quick)
    finally:
        server.stop()
    figures.update(
        services=services,
        series=services * 2,
        days=31,
        backfill_seconds=round(backfill_seconds, 1),
    )
    print(json.dumps(figures))


# --- mixed workload: exact and promql-path SLOs together (the promql path stays batched) -----

MIXED_VARIANTS = [("30d", 0.999), ("28d", 0.995), ("7d", 0.99), ("14d", 0.9995)]


def create_promql_slos(per_service: int, services: int) -> int:
    """`per_service` promql-path SLOs on each of `services` services (each service's share the
    same two expressions, with different windows and objectives), plus one definition grouped
    by service; returns the number of distinct expressions."""
    from slo.models import SLO, Service
    from slo.services import slo_save
    from teams.models import Team

    team = Team.objects.get(slug="bench")
    for index in range(services):
        service = Service.objects.get(name=f"svc-{index:03d}")
        selector = f'bench_requests_total{{service="{service.name}"'
        for variant in range(per_service):
            window, objective = MIXED_VARIANTS[variant % len(MIXED_VARIANTS)]
            slo = SLO(
                name=f"{service.name}-promql-{variant}",
                service=service,
                team=team,
                objective=objective,
                window_duration=window,
                numerator_query=(
                    f'clamp_min(sum(rate({selector},code="500"}}[{{{{.window}}}}])), 0)'
                ),
                total_query=f"sum(rate({selector}}}[{{{{.window}}}}]))",
            )
            slo_save(actor=None, slo=slo)
    grouped = SLO(
        name="every-service-by-service",
        service=Service.objects.get(name="svc-000"),
        team=team,
        objective=0.999,
        window_duration="30d",
        numerator_query='clamp_min(sum by (service) (rate(bench_requests_total{code="500"}'
        "[{{.window}}])), 0)",
        total_query="sum by (service) (rate(bench_requests_total[{{.window}}]))",
    )
    slo_save(actor=None, slo=grouped)
    return 2 * services + 2


def prometheus_queries(url: str) -> int:
    """The instant queries Prometheus has answered so far (its own request counter)."""
    import requests

    text = requests.get(f"{url}/metrics", timeout=10).text
    return sum(
        int(float(line.rsplit(" ", 1)[1]))
        for line in text.splitlines()
        if line.startswith("prometheus_http_requests_total{") and 'handler="/api/v1/query"' in line
    )


def measure_mixed(exact_slos: int, services: int, url: str, quick: bool) -> dict:
    """Queries and seconds of one evaluation of exact and promql SLOs, at two promql sizes."""
    from slo.models import SLO

    figures: dict = {}
    used = 10 if quick else 25  # services with promql SLOs
    for per_service in (4, 16):  # every window variant at both sizes: the same windows
        create_slos(exact_slos, services)
        distinct = create_promql_slos(per_service, used)
        evaluate_end_to_end()  # warm-up
        before = prometheus_queries(url)
        seconds, results = evaluate_end_to_end()
        queries = prometheus_queries(url) - before
        assert all(r["data_status"] == "ok" for r in results), "every mixed SLO has data"
        promql = SLO.objects.filter(parent=None, evaluation="promql").count()
        figures[f"at_{promql}_promql"] = {
            "exact_slos": exact_slos,
            "promql_slos": promql,
            "distinct_expressions": distinct,
            "queries": queries,
            "seconds": round(seconds, 3),
        }
    small, large = figures.values()
    figures["same_queries_at_both_sizes"] = small["queries"] == large["queries"]
    return figures


if __name__ == "__main__":
    main()
