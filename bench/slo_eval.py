"""SLO evaluation benchmark: `slo_evaluate` against a naive baseline on equal terms, over 31 days
of history in a real Prometheus, every figure of every SLO compared.

The workload (bench/slo_workload.py): distinct counters `app<k>_http_requests_total{service,
code}`, each counted by a few services, some with an outage in the last hours, a slow burn
over the last days or a counter reset. The sample resolution is 30 minutes until a day before
the evaluation, 5 minutes until an hour before, then 1 minute (the 5m burn window needs a few
samples). It is backfilled with promtool once and cached under var/bench/prometheus-blocks/.

The SLOs are imported through `slo_import` as their users write them: OpenSLO v1 ratioMetric
SLOs (good or bad over total, rolling 7d, 28d or 30d) and Sloth prometheus/v1 specs (events
error_query / total_query with `{{.window}}`, Sloth's 30d), spread round-robin over every metric
and service. Promql-path and grouped SLIs join the mix through EXTRA_VARIANTS once the engine
evaluates them (see below).

Measured in the same run, each the best of ROUNDS timed runs after a warm-up, with the same
number of queries in flight (the engine's own parallelism, PrometheusSource's `parallel`):

- seconds:        `manage.py slo_evaluate --json` end to end (SLOs read from the database,
                  one question per metric or distinct expression for all its windows, many
                  to a request, the maths, the JSON);
- naive_seconds:  the naive way, tests/slo/oracle.py (written from the SLO maths in
                  docs/architecture.md, not from the engine): per SLO, one PromQL query per
                  window (the SLO window and the seven burn windows), Prometheus computing
                  each ratio, run by as many threads as the engine has queries in flight, over
                  one keep-alive session per thread;
- queries / naive_queries: the queries Prometheus answered for one run of each (counted by
                  Prometheus itself), and prometheus_seconds / naive_prometheus_seconds the time
                  Prometheus spent evaluating them (its own query-duration summary);
- speedup = naive_seconds / seconds.

Every figure of every SLO must agree: data status, SLI and budget left (as error ratios over the
SLO window), the seven burn rates (within 1e-6 relative) and the alerts (exactly: severity, the
two windows, the threshold). max_rel_diff is the largest relative difference found; any
disagreement is listed and the exit status is 1.

--smoke: 24 SLOs over 12 metrics. --quick: 200 SLOs over 100 metrics. Without either: 1,000 and
then 10,000 SLOs, both over 1,000 metrics (the last line's figures are the 10,000's, the
1,000's under "at_1000"); `--profile` also writes where the engine's time goes to
var/bench/slo_eval-profile-<n>.txt, and `--rules` reads the largest size's figures from
SSOps's own recording rules as an experiment (bench/_slo_rules.py).
"""

from __future__ import annotations

import cProfile
import inspect
import io
import json
import math
import pstats
import re
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import requests
from _setup import ROOT, Checks, arguments, django_with_fresh_sqlite, finish

sys.path.insert(0, str(ROOT))

from slo_workload import (  # noqa: E402
    DAYS,
    END,
    RESOLUTION,
    cached_blocks,
    grid,
    metric_name,
    service_name,
)

from tests.services.prometheus import PrometheusServer  # noqa: E402

TOLERANCE = 1e-6
BLOCKS = ROOT / "var" / "bench" / "prometheus-blocks"


@dataclass(frozen=True)
class Size:
    metrics: int
    services_per_metric: int
    slos: tuple[int, ...]
    rounds: int


SIZES = {
    "smoke": Size(12, 2, (30,), 1),
    "quick": Size(100, 2, (200,), 3),
    "full": Size(1000, 5, (1000, 10_000), 3),
}


@dataclass(frozen=True)
class Variant:
    """One kind of SLO in the mix."""

    format: str  # as stored in SLO.origin: "openslo" | "sloth" | "sloth_k8s" | "pyrra"
    numerator: str  # "good" | "bad"
    window: str
    objective: float
    path: str = "exact"  # how the engine evaluates it: "exact" (counters) or "promql"
    grouped: bool = False  # one SLO per service of the metric
    shape: str = "counters"  # how the SLI is written (see documents())


VARIANTS = (
    Variant("openslo", "bad", "30d", 0.999),
    Variant("sloth", "bad", "30d", 0.999),
    Variant("openslo", "good", "28d", 0.995),
    Variant("openslo", "bad", "7d", 0.99),
    Variant("sloth", "bad", "30d", 0.995),
    Variant("openslo", "good", "30d", 0.9995),
    Variant("openslo", "bad", "28d", 0.999),
    Variant("sloth", "bad", "30d", 0.99),
    Variant("openslo", "good", "7d", 0.999),
)
# Promql-path SLIs (Prometheus evaluates the expression with `{{.window}}` filled in, Sloth's
# semantics) and grouped SLOs (one result per service), as their users write them: 5 of the 15
# kinds are promql (a third), 2 grouped (13 %).
EXTRA_VARIANTS: tuple[Variant, ...] = (
    Variant("sloth", "bad", "30d", 0.999, "promql", shape="or-vector"),
    Variant("pyrra", "bad", "28d", 0.995, grouped=True, shape="ratio"),
    Variant("sloth", "bad", "30d", 0.995, "promql", shape="raw"),
    Variant("sloth_k8s", "bad", "30d", 0.99, "promql", shape="total-minus-good"),
    Variant("openslo", "good", "28d", 0.999, "promql", shape="raw"),
    Variant("openslo", "bad", "7d", 0.99, "promql", grouped=True, shape="raw"),
)
MIX = VARIANTS + EXTRA_VARIANTS
WINDOW = "{{.window}}"


# --- the SLOs, as their users write them ---------------------------------------------------------


def placement(number: int, size: Size) -> tuple[int, int, Variant]:
    """SLO `number` → (metric, service slot, variant): round-robin over the metrics first, so
    that any count of SLOs spreads over as many metrics as it can. A grouped SLO covers every
    service of its metric."""
    metric = number % size.metrics
    slot = number // size.metrics % size.services_per_metric
    variant = MIX[number % len(MIX)]
    return metric, slot, variant


def selector(metric: int, service: str | None, code: str = "") -> str:
    """`app<k>_http_requests_total{service="...", code...}`; all services when None."""
    matchers = [f'service="{service}"'] if service else []
    matchers += [code] if code else []
    return f"{metric_name(metric)}{{{','.join(matchers)}}}" if matchers else metric_name(metric)


ERRORS, SUCCESS = 'code=~"5.."', 'code="200"'


def openslo(name: str, service: str, metric: int, variant: Variant) -> str:
    numerator = selector(metric, service, SUCCESS if variant.numerator == "good" else ERRORS)
    return f"""---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: {name}
  labels:
    team: bench
spec:
  service: {service}
  indicator:
    metadata:
      name: {name}-sli
    spec:
      ratioMetric:
        counter: true
        {variant.numerator}:
          metricSource:
            type: Prometheus
            spec:
              query: sum({numerator})
        total:
          metricSource:
            type: Prometheus
            spec:
              query: sum({selector(metric, service)})
  timeWindow:
    - duration: {variant.window}
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - target: {variant.objective}
"""


def openslo_raw(name: str, service: str, metric: int, variant: Variant) -> str:
    """OpenSLO v1 raw ratio: the good share (rawType success) of one service, or the error
    ratio of every service of the metric, grouped through SSOps's label."""
    if variant.grouped:
        by, group_label = "sum by (service) ", "\n    ssops.io/group-by: service"
        part, whole = selector(metric, None, ERRORS), selector(metric, None)
    else:
        by, group_label = "sum", ""
        part, whole = selector(metric, service, SUCCESS), selector(metric, service)
    raw_type = "success" if variant.numerator == "good" else "failure"
    return f"""---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: {name}
  labels:
    team: bench{group_label}
spec:
  service: {service}
  description: Share of requests answered without a server error, as Prometheus computes it.
  indicator:
    metadata:
      name: {name}-sli
    spec:
      ratioMetric:
        rawType: {raw_type}
        raw:
          metricSource:
            type: Prometheus
            spec:
              query: >-
                {by}(rate({part}[{WINDOW}]))
                / {by}(rate({whole}[{WINDOW}]))
  timeWindow:
    - duration: {variant.window}
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - displayName: good enough
      target: {variant.objective}
"""


def sloth(name: str, service: str, metric: int, variant: Variant) -> str:
    errors = f"sum(rate({selector(metric, service, ERRORS)}[{WINDOW}]))"
    total = f"sum(rate({selector(metric, service)}[{WINDOW}]))"
    if variant.shape == "raw":
        sli = f"""raw:
        error_ratio_query: |
          {errors}
          /
          {total}"""
    else:
        # `or on() vector(0)`: no 5xx series at all still counts as no errors.
        extra = " or on() vector(0)" if variant.shape == "or-vector" else ""
        sli = f"""events:
        error_query: {errors}{extra}
        total_query: {total}"""
    return f"""---
version: prometheus/v1
service: {service}
labels:
  team: bench
slos:
  - name: {name}
    objective: {round(variant.objective * 100, 4)}
    description: {service} answers without server errors.
    sli:
      {sli}
"""


def sloth_k8s(name: str, service: str, metric: int, variant: Variant) -> str:
    """Sloth's Kubernetes form: errors as every request minus the good ones, never below 0."""
    total = f"sum(rate({selector(metric, service)}[{WINDOW}]))"
    good = f"sum(rate({selector(metric, service, SUCCESS)}[{WINDOW}]))"
    return f"""---
apiVersion: sloth.slok.dev/v1
kind: PrometheusServiceLevel
metadata:
  name: {service}-{name}
  namespace: monitoring
spec:
  service: "{service}"
  labels:
    team: bench
  slos:
    - name: "{name}"
      objective: {round(variant.objective * 100, 4)}
      sli:
        events:
          errorQuery: clamp_min({total} - {good}, 0)
          totalQuery: {total}
      alerting:
        name: {metric_name(metric)}-errors
"""


def pyrra(name: str, service: str, metric: int, variant: Variant) -> str:
    """Pyrra's ratio indicator over every service of the metric, grouped by service."""
    return f"""---
apiVersion: pyrra.dev/v1alpha1
kind: ServiceLevelObjective
metadata:
  name: {name}
  namespace: monitoring
  labels:
    team: bench
    service: {service}
spec:
  target: "{round(variant.objective * 100, 4)}"
  window: {variant.window}
  indicator:
    ratio:
      errors:
        metric: {selector(metric, None, ERRORS)}
      total:
        metric: {selector(metric, None)}
      grouping:
        - service
"""


WRITERS = {
    ("openslo", "counters"): openslo,
    ("openslo", "raw"): openslo_raw,
    ("sloth", "counters"): sloth,
    ("sloth", "or-vector"): sloth,
    ("sloth", "raw"): sloth,
    ("sloth_k8s", "total-minus-good"): sloth_k8s,
    ("pyrra", "ratio"): pyrra,
}


def slo_of(number: int, size: Size) -> tuple[str, str, int, Variant]:
    """SLO `number`: (name in its file, service, metric, variant)."""
    metric, slot, variant = placement(number, size)
    if variant.grouped:  # the service of the whole app
        service = f"app{metric:04d}"
    else:
        service = service_name(metric, slot, size.services_per_metric)
    name = f"{service}-v{number}" if variant.format in ("openslo", "pyrra") else f"v{number}"
    return name, service, metric, variant


def documents(count: int, size: Size, copies: int = 0) -> dict[str, str]:
    """The YAML files (one per format) that define `count` SLOs; with `copies`, each promql
    SLO has that many more beside it over the same expressions and window, as teams write
    them: the same SLI with another objective."""
    files: dict[str, list[str]] = defaultdict(list)
    for number in range(count):
        name, service, metric, variant = slo_of(number, size)
        write = WRITERS[variant.format, variant.shape]
        files[variant.format].append(write(name, service, metric, variant))
        if variant.path != "promql":
            continue
        for copy in range(1, copies + 1):
            other = replace(variant, objective=round(variant.objective - 0.001 * copy, 4))
            files[variant.format].append(write(f"{name}-c{copy}", service, metric, other))
    return {name: "".join(parts) for name, parts in files.items()}


def import_slos(count: int, size: Size, copies: int = 0) -> int:
    """Import the SLOs of `documents()` into an empty database; how many there are."""
    from slo.models import SLO, Service
    from slo.services.definitions import slo_import_text
    from teams.models import Team

    SLO.objects.all().delete()
    Service.objects.all().delete()
    team, _ = Team.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
    for name, text in documents(count, size, copies).items():
        slo_import_text(actor=None, text=text, name=f"{name}.yaml", default_team=team)
    promql = sum(placement(number, size)[2].path == "promql" for number in range(count))
    found = SLO.objects.filter(parent=None).count()
    if found != count + copies * promql:
        raise SystemExit(f"imported {found} SLOs, expected {count + copies * promql}")
    return found


def answers(count: int, size: Size) -> int:
    """How many objects slo_evaluate gives for `count` SLOs: one per group of a grouped one."""
    grouped = sum(placement(number, size)[2].grouped for number in range(count))
    return count - grouped + grouped * size.services_per_metric


def check_mix(count: int, size: Size, checks: Checks) -> dict:
    """The mix as imported: formats, windows, evaluation paths, grouped; metrics and services."""
    placed = [placement(number, size) for number in range(count)]
    mix = {
        "formats": dict(Counter(v.format for _, _, v in placed)),
        "windows": dict(Counter(v.window for _, _, v in placed)),
        "paths": dict(Counter(v.path for _, _, v in placed)),
        "grouped": sum(v.grouped for _, _, v in placed),
        "metrics": len({m for m, _, _ in placed}),
        "services": len({(m, s) for m, s, _ in placed}),
    }
    from slo.models import SLO

    definitions = SLO.objects.filter(parent=None)
    stored = {
        "formats": dict(Counter(definitions.values_list("origin", flat=True))),
        "windows": dict(Counter(definitions.values_list("window_duration", flat=True))),
        "paths": dict(Counter(definitions.values_list("evaluation", flat=True))),
        "grouped": sum(bool(g) for g in definitions.values_list("group_by", flat=True)),
    }
    for key, found in stored.items():
        checks.expect(found == mix[key], f"imported {key} {found}, placed {mix[key]}")
    if EXTRA_VARIANTS:  # the shares the benchmarks issue asks of the mix
        checks.expect(mix["paths"].get("promql", 0) >= 0.25 * count, f"promql share: {mix}")
        checks.expect(mix["grouped"] >= 0.10 * count, f"grouped share: {mix}")
    return mix


# --- the two ways --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    """What one run cost: queries Prometheus answered, the time it spent evaluating them (its
    query-duration summary: wall time, which other work on the machine stretches), the CPU
    time its process used, and the CPU time of this process (the engine or the baseline)."""

    queries: float = 0.0
    prometheus_seconds: float = 0.0
    prometheus_cpu_seconds: float = 0.0
    cpu_seconds: float = 0.0

    def __sub__(self, other: Load) -> Load:
        return Load(*(getattr(self, f) - getattr(other, f) for f in self.__dataclass_fields__))


class Counted:
    """Prometheus's own counts (queries, evaluation time, CPU), and this process's CPU."""

    def __init__(self, url: str):
        self.url = url

    def read(self) -> Load:
        text = requests.get(f"{self.url}/metrics", timeout=10).text
        queries = seconds = cpu = 0.0
        for line in text.splitlines():
            if line.startswith("prometheus_http_requests_total{") and (
                'handler="/api/v1/query"' in line or 'handler="/api/v1/query_range"' in line
            ):
                queries += float(line.rsplit(" ", 1)[1])
            elif line.startswith("prometheus_engine_query_duration_seconds_sum{"):
                seconds += float(line.rsplit(" ", 1)[1])
            elif line.startswith("process_cpu_seconds_total "):
                cpu = float(line.rsplit(" ", 1)[1])
        return Load(queries, seconds, cpu, time.process_time())


def concurrency() -> int:
    """How many queries the engine keeps in flight (PrometheusSource's default)."""
    from slo.sources.prometheus import PrometheusSource

    return inspect.signature(PrometheusSource).parameters["parallel"].default


def engine_once() -> tuple[float, list[dict]]:
    from django.core.management import call_command

    out = io.StringIO()
    at = datetime.fromtimestamp(END, UTC).isoformat()
    started = time.perf_counter()
    call_command("slo_evaluate", "--json", "--at", at, stdout=out)
    seconds = time.perf_counter() - started
    return seconds, json.loads(out.getvalue())


class Session:
    """The oracle's Prometheus (`query`, `value`) over one keep-alive session per thread."""

    def __init__(self, url: str):
        self.url = url
        self.local = threading.local()

    def query(self, promql: str, at: float) -> list[dict]:
        session = getattr(self.local, "session", None)
        if session is None:
            session = self.local.session = requests.Session()
        response = session.post(
            f"{self.url}/api/v1/query", data={"query": promql, "time": at}, timeout=60
        )
        body = response.json()
        if body["status"] != "success":
            raise RuntimeError(f"Prometheus refused {promql}: {body}")
        return body["data"]["result"]

    def value(self, promql: str, at: float) -> float | None:
        result = self.query(promql, at)
        if len(result) > 1:
            raise RuntimeError(f"{promql} returned {len(result)} series")
        return float(result[0]["value"][1]) if result else None


def naive_once(url: str, threads: int) -> tuple[float, dict[str, dict]]:
    from slo.models import SLO
    from tests.slo import oracle

    prometheus = Session(url)
    started = time.perf_counter()
    slos = list(SLO.objects.filter(parent=None).select_related("service").order_by("name"))
    with ThreadPoolExecutor(threads) as pool:
        found = pool.map(lambda slo: oracle.expected_objects(prometheus, slo, END), slos)
        objects = [item for items in found for item in items]
    seconds = time.perf_counter() - started
    return seconds, {item["name"]: item for item in objects}


def best_of(rounds: int, once, counter: Counted) -> tuple[float, object, Load]:
    """Warm up once, then the best of `rounds`: (seconds, answer, what one run cost), the cost
    counted over the warm-up run."""
    before = counter.read()
    once()
    cost = counter.read() - before
    best, answer = float("inf"), None
    for _ in range(rounds):
        seconds, result = once()
        if seconds < best:
            best, answer = seconds, result
    return best, answer, cost


# --- the comparison ------------------------------------------------------------------------------


def relative(a: float, b: float) -> float:
    scale = max(abs(a), abs(b))
    return abs(a - b) / scale if scale > 1e-15 else 0.0


def error_of(sli: float | None) -> float | None:
    return None if sli is None else 1 - sli


def compare(results: list[dict], naive: dict[str, dict], checks: Checks) -> float:
    """Every figure of every SLO against the baseline's; the largest relative difference."""
    worst = 0.0
    checks.expect(len(results) == len(naive), f"{len(results)} results, {len(naive)} naive")

    def close(name: str, what: str, mine, theirs) -> None:
        nonlocal worst
        if mine is None or theirs is None:
            checks.expect(mine is None and theirs is None, f"{name} {what}: {mine} vs {theirs}")
            return
        difference = relative(mine, theirs)
        worst = max(worst, difference)
        checks.expect(difference <= TOLERANCE, f"{name} {what}: {mine!r} vs {theirs!r}")

    for result in results:
        name = result["name"]
        other = naive.get(name)
        if not checks.expect(other is not None, f"{name}: no baseline answer"):
            continue
        checks.expect(
            result["data_status"] == other["data_status"],
            f"{name} data_status: {result['data_status']} vs {other['data_status']}",
        )
        checks.expect(
            result.get("evaluation", "exact") == other.get("evaluation", "exact"),
            f"{name} evaluation path: {result.get('evaluation')} vs {other.get('evaluation')}",
        )
        budget = 1 - result["objective"]
        close(name, "SLO-window error ratio", error_of(result["sli"]), error_of(other["sli"]))
        remaining = result["error_budget_remaining"]
        close(
            name,
            "budget-derived error ratio",
            None if remaining is None else (1 - remaining) * budget,
            None
            if other["error_budget_remaining"] is None
            else (1 - other["error_budget_remaining"]) * budget,
        )
        checks.expect(
            list(result["burn_rates"]) == list(other["burn_rates"]), f"{name} burn windows"
        )
        for window, rate in result["burn_rates"].items():
            close(name, f"burn {window}", rate, other["burn_rates"].get(window))
        mine = [(a["severity"], a["long_window"], a["short_window"]) for a in result["alerts"]]
        theirs = [(a["severity"], a["long_window"], a["short_window"]) for a in other["alerts"]]
        checks.expect(sorted(mine) == sorted(theirs), f"{name} alerts: {mine} vs {theirs}")
        thresholds = {
            (a["severity"], a["long_window"]): a["burn_rate_threshold"] for a in other["alerts"]
        }
        for alert in result["alerts"]:
            theirs_threshold = thresholds.get((alert["severity"], alert["long_window"]))
            checks.expect(
                theirs_threshold is not None
                and math.isclose(alert["burn_rate_threshold"], theirs_threshold, rel_tol=1e-12),
                f"{name} alert threshold {alert} vs {theirs_threshold}",
            )
    return worst


def measure(count: int, size: Size, url: str, checks: Checks, profile: bool) -> dict:
    import_slos(count, size)
    mix = check_mix(count, size, checks)
    counter = Counted(url)
    threads = concurrency()
    rounds = size.rounds if count < 10_000 else 2
    seconds, results, cost = best_of(rounds, engine_once, counter)
    from slo.models import SLO

    asked = questions(SLO.objects.filter(parent=None))
    naive_seconds, naive, naive_cost = best_of(rounds, lambda: naive_once(url, threads), counter)
    worst = compare(results, naive, checks)
    statuses = Counter(r["data_status"] for r in results)
    checks.expect(
        set(statuses) == {"ok"} and len(results) == answers(count, size),
        f"data status of the {len(results)} answers: {dict(statuses)}",
    )
    alerts = Counter(a["severity"] for r in results for a in r["alerts"])
    print(
        f"{count} SLOs: mix {json.dumps(mix)}; alerts firing {dict(alerts)}; "
        f"engine {seconds:.2f} s ({cost.queries:.0f} queries), naive {naive_seconds:.2f} s "
        f"({naive_cost.queries:.0f} queries); largest difference {worst:.2e}",
        file=sys.stderr,
    )
    if profile:
        write_profile(count)
    return {
        "slos": count,
        "answers": len(results),
        "metrics": mix["metrics"],
        "services": mix["services"],
        "mix": mix,
        "alerts_firing": dict(alerts),
        "concurrency": threads,
        "rounds": rounds,
        "seconds": round(seconds, 3),
        "queries": round(cost.queries),
        "queries_evaluated": sum(len(windows) for windows in asked.values()),
        "prometheus_seconds": round(cost.prometheus_seconds, 2),
        "prometheus_cpu_seconds": round(cost.prometheus_cpu_seconds, 2),
        "engine_cpu_seconds": round(cost.cpu_seconds, 2),
        "naive_seconds": round(naive_seconds, 3),
        "naive_queries": round(naive_cost.queries),
        "naive_prometheus_seconds": round(naive_cost.prometheus_seconds, 2),
        "naive_prometheus_cpu_seconds": round(naive_cost.prometheus_cpu_seconds, 2),
        "naive_cpu_seconds": round(naive_cost.cpu_seconds, 2),
        "speedup": round(naive_seconds / seconds, 2),
        "max_rel_diff": worst,
    }


def from_rules(server: PrometheusServer, checks: Checks) -> dict:
    """The experiment of bench/_slo_rules.py on the SLOs imported last."""
    import _slo_rules

    _, results = engine_once()
    figures = _slo_rules.measure(
        server,
        END,
        concurrency(),
        Counted(server.url),
        Session(server.url),
        results,
        lambda mine, read: compare(mine, read, checks),
    )
    print(f"from the recording rules: {json.dumps(figures)}", file=sys.stderr)
    return figures


COPIES = 3
METRIC = re.compile(r"app\d+_http_requests_total")


def questions(definitions) -> dict[str, set[str]]:
    """What the engine asks Prometheus, counted from the SLOs: on the exact path each metric,
    on the promql path each distinct expression, over the windows of the SLOs that use it."""
    from slo.maths import BURN_WINDOWS

    asked: dict[str, set[str]] = defaultdict(set)
    for slo in definitions:
        if slo.evaluation == "exact":
            texts = METRIC.findall(slo.numerator_query + slo.total_query)
        else:
            texts = [t for t in (slo.numerator_query, slo.total_query, slo.ratio_query) if t]
        for text in texts:
            asked[text] |= {slo.window_duration, *BURN_WINDOWS}
    return asked


def measure_batching(count: int, size: Size, url: str, checks: Checks) -> dict:
    """The promql path stays batched: one evaluation of the `count` SLOs, then of the same with
    COPIES more promql SLOs beside each over the same expressions and windows (other
    objectives). Prometheus answers as many requests at both sizes: the queries are one per
    metric and window on the exact path and one per distinct expression and window on the
    promql path (`queries`, counted from the SLOs), however many SLOs share them."""
    from slo.models import SLO

    counter = Counted(url)
    found = []
    for copies in (0, COPIES):
        slos = import_slos(count, size, copies)
        definitions = list(SLO.objects.filter(parent=None))
        asked = questions(definitions)
        promql = sum(slo.evaluation == "promql" for slo in definitions)
        engine_once()  # warm-up
        before = counter.read()
        seconds, results = engine_once()
        cost = counter.read() - before
        statuses = Counter(r["data_status"] for r in results)
        checks.expect(set(statuses) == {"ok"}, f"batching, copies {copies}: {dict(statuses)}")
        found.append(
            {
                "slos": slos,
                "promql_slos": promql,
                "promql_share": round(promql / slos, 3),
                "metrics_and_expressions": len(asked),
                "queries": sum(len(windows) for windows in asked.values()),
                "requests": round(cost.queries),
                "seconds": round(seconds, 3),
            }
        )
    small, large = found
    same = small["requests"] == large["requests"] and small["queries"] == large["queries"]
    checks.expect(same, f"requests grew with the promql SLOs: {small} then {large}")
    print(
        f"batching: {small['promql_slos']} then {large['promql_slos']} promql SLOs, "
        f"{small['requests']} then {large['requests']} requests",
        file=sys.stderr,
    )
    return {"small": small, "large": large, "same_queries": same}


def write_profile(count: int) -> None:
    """One more engine run under cProfile: where the time goes, by cumulative time."""
    profiler = cProfile.Profile()
    profiler.enable()
    engine_once()
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(25)
    path = ROOT / "var" / "bench" / f"slo_eval-profile-{count}.txt"
    path.write_text(out.getvalue())
    print(f"profile: {path}", file=sys.stderr)


def main() -> None:
    from argparse import ArgumentParser

    parser = ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", action="store_true", help="also profile the engine")
    parser.add_argument(
        "--rules",
        action="store_true",
        help="also read the largest size's figures from SSOps's recording rules (an experiment)",
    )
    args = arguments(__doc__, parser=parser)
    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    size = SIZES[mode]
    started = time.perf_counter()
    blocks = cached_blocks(size.metrics, size.services_per_metric, BLOCKS)
    backfill_seconds = time.perf_counter() - started
    django_with_fresh_sqlite("slo_eval")
    from django.conf import settings

    server = PrometheusServer(Path(tempfile.mkdtemp(prefix="slo-bench-")), blocks).start()
    settings.PROMETHEUS_URL = server.url
    checks = Checks()
    try:
        runs = [measure(count, size, server.url, checks, args.profile) for count in size.slos]
        if args.rules:
            runs[-1]["from_rules"] = from_rules(server, checks)
        batching = measure_batching(size.slos[0], size, server.url, checks)
    finally:
        server.stop()
    figures = runs[-1]
    for earlier in runs[:-1]:
        figures[f"at_{earlier['slos']}"] = earlier
    small, large = batching["small"], batching["large"]
    figures.update(
        batching=batching,
        promql_batched=batching["same_queries"],
        batching_promql_slos=f"{small['promql_slos']} → {large['promql_slos']}",
        batching_requests=f"{small['requests']} → {large['requests']}",
        series=size.metrics * size.services_per_metric * 2,
        days=DAYS,
        resolution=RESOLUTION,
        samples_per_series=len(grid()),
        backfill_seconds=round(backfill_seconds, 1),
    )
    finish(figures, checks)


if __name__ == "__main__":
    main()
