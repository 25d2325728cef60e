"""An experiment for bench/slo_eval.py --rules: the SLOs' figures read from SSOps's own recording
rules (`slo_rules`) instead of evaluated by the engine, and what those rules cost Prometheus.

1. Every recording rule of `slo_rules` (the error ratio of every SLO over each window) is
   evaluated once at the evaluation moment, as Prometheus's rule manager does at every interval,
   with the engine's concurrency: its wall time and Prometheus's CPU are the price of one rule
   interval (an upper bound: here each rule also travels over HTTP as JSON).
2. The answers are stored as the rules would have recorded them (backfilled with promtool) and
   Prometheus restarted over them.
3. Reading: one query per recorded window name for all the SLOs, and the maths; best of three.
   The figures so read are compared with the engine's (error ratios within 1e-6, alerts
   exactly).

Not something the engine does: see docs/benchmarks.md for why reading recorded rules is not a
sound default (values as of the last rule interval, calendar windows recorded as rolling ones,
rules that must be reloaded whenever an SLO changes, no history for any other moment).
"""

from __future__ import annotations

import io
import math
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

from tests.services.prometheus import PROMTOOL, _write_openmetrics

BUDGET = "slo:error_budget:remaining"
RULE_LABELS = ("slo", "service", "team", "severity", "alertname")


def recording_rules() -> list[dict]:
    """The recording rules `slo_rules` writes for every SLO, but the budget (read from them)."""
    from django.core.management import call_command

    out = io.StringIO()
    call_command("slo_rules", stdout=out)
    groups = yaml.safe_load(out.getvalue())["groups"]
    return [r for g in groups for r in g["rules"] if r.get("record") not in (None, BUDGET)]


def evaluate_rules(rules: list[dict], query: Callable, at: float, threads: int) -> list:
    """Every rule's series at `at`, as the rule manager records them: the expression's labels,
    the rule's labels over them, the name of the record."""
    with ThreadPoolExecutor(threads) as pool:
        answers = list(pool.map(lambda rule: query(rule["expr"], at), rules))
    recorded = []
    for rule, series in zip(rules, answers, strict=True):
        for item in series:
            labels = {k: v for k, v in item["metric"].items() if k != "__name__"}
            labels.update(rule["labels"])
            recorded.append((rule["record"], labels, float(item["value"][1])))
    return recorded


def backfill(recorded: list, at: float, server) -> None:
    """The recorded samples into Prometheus's storage (promtool), Prometheus restarted."""
    work = Path(tempfile.mkdtemp(prefix="slo-rules-"))
    samples = []
    for name, labels, value in recorded:
        text = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        samples.append((name, "gauge", f"{name}{{{text}}}", at, value))
    _write_openmetrics(work / "rules.om", samples)
    blocks = work / "blocks"
    subprocess.run(
        [PROMTOOL, "tsdb", "create-blocks-from", "openmetrics", "-q"]
        + [str(work / "rules.om"), str(blocks)],
        check=True,
        capture_output=True,
    )
    server.stop()
    for block in blocks.iterdir():
        shutil.move(str(block), server.workdir / "data" / block.name)
    server.start()
    shutil.rmtree(work, ignore_errors=True)


def read_figures(names: list[str], query: Callable, at: float, threads: int) -> dict:
    """Per SLO (and group): the error ratio over each window, from the recorded series."""
    with ThreadPoolExecutor(threads) as pool:
        answers = list(pool.map(lambda name: query(name, at), names))
    found: dict[tuple, dict[str, float | None]] = {}
    prefix = len("slo:sli_error:ratio_rate")
    for name, series in zip(names, answers, strict=True):
        for item in series:
            labels = {k: v for k, v in item["metric"].items() if k != "__name__"}
            key = (labels["slo"], tuple(sorted(labels.items())))
            value = float(item["value"][1])
            found.setdefault(key, {})[name[prefix:]] = None if math.isnan(value) else value
    return found


def objects(found: dict, slos: list) -> dict[str, dict]:
    """The slo_evaluate figures of every SLO (each group of a grouped one) from the recorded
    error ratios, with SSOps's maths."""
    from slo import maths

    definitions = {slo.name: slo.definition() for slo in slos}
    result = {}
    for (name, labels), errors in found.items():
        definition = definitions[name]
        values = dict(labels)
        key = tuple(
            values.get(f"exported_{g}" if g in RULE_LABELS else g, "") for g in definition.group_by
        )
        shown = definition.group_name(key) if definition.group_by else name
        error = errors.get(str(definition.window.duration))
        burns = {
            w: maths.burn_rate(errors.get(w), definition.objective) for w in maths.BURN_WINDOWS
        }
        result[shown] = {
            "name": shown,
            "objective": definition.objective,
            "sli": None if error is None else 1 - error,
            "error_budget_remaining": maths.budget_remaining(error, definition.objective),
            "burn_rates": burns,
            "alerts": [
                a.as_dict() for a in maths.alerts_firing(burns, definition.window.period_seconds)
            ],
            "data_status": "ok" if error is not None else "no_data",
            "evaluation": definition.evaluation,
        }
    return result


def measure(server, at: float, threads: int, counter, session, engine_results, compare) -> dict:
    from slo.models import SLO

    rules = recording_rules()
    before = counter.read()
    started = time.perf_counter()
    recorded = evaluate_rules(rules, session.query, at, threads)
    evaluate_seconds = time.perf_counter() - started
    cost = counter.read() - before
    backfill(recorded, at, server)
    names = sorted({rule["record"] for rule in rules})
    slos = list(SLO.objects.filter(parent=None).select_related("service", "team", "data_source"))
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        read = objects(read_figures(names, session.query, at, threads), slos)
        best = min(best, time.perf_counter() - started)
    worst = compare(engine_results, read)
    return {
        "rules": len(rules),
        "rules_series": len(recorded),
        "rules_evaluate_seconds": round(evaluate_seconds, 2),
        "rules_prometheus_cpu_seconds": round(cost.prometheus_cpu_seconds, 2),
        "rules_read_queries": len(names),
        "rules_read_seconds": round(best, 3),
        "rules_max_rel_diff": worst,
    }
