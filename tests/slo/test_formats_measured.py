"""Every SLI shape, imported from each format that can write it, is measured right.

The SLOs of tests/slo/shape_documents.py (Sloth, its Kubernetes form, OpenSLO v1 and v1alpha,
Pyrra) run through `slo_evaluate --json` against the session's real Prometheus; the test
recomputes each figure itself, independently of the imported expressions: from the samples the
workload generator wrote (tests/slo/workload_shapes.py), following Prometheus's selection rules,
or, for the counters of the main workload, with PromQL written here. Error ratios and burn rates
agree within 0.1 % relative, budgets within 0.001, alerts exactly.
"""

from __future__ import annotations

import io
import json
import math
import re
from bisect import bisect_left, bisect_right
from collections import defaultdict
from datetime import UTC, datetime
from fractions import Fraction
from functools import cache

import pytest
from django.core.management import call_command

from slo.models import SLO
from tests.slo import oracle, shape_documents, workload, workload_shapes

pytestmark = [pytest.mark.prometheus, pytest.mark.django_db]

WINDOW = 7 * 86400  # every SLO here has a 7-day window and objective 99 %
BUDGET = 0.01
MINUTE = 60
LOOKBACK = 300  # Prometheus's default lookback for instant selectors

MOMENTS = {
    "slow /pay requests": workload.OUTAGE[0] + 630,
    "node c not ready": workload_shapes.NODE_DOWN[0] + 3630,
    "api probe down": workload_shapes.PROBE_OUTAGE[0] + 1830,
    "end of the backfilled history": workload.END - 30,
}
NATIVE_MOMENTS = {
    "slow native /pay": workload_shapes.NATIVE_OUTAGE[0] + 630,
    "end of the native history": workload_shapes.NATIVE_END - 30,
}
SERIES = re.compile(r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)\{(?P<labels>.*)\}$")
LABEL = re.compile(r'(\w+)="([^"]*)"')


@cache
def samples() -> dict[tuple, tuple[list[float], list[float]]]:
    """Every backfilled series of the shapes workload: (name, labels) → (times, values)."""
    found: dict[tuple, tuple[list, list]] = defaultdict(lambda: ([], []))
    for _, _, series, ts, value in workload_shapes.generate():
        match = SERIES.match(series)
        key = (match["name"], tuple(sorted(LABEL.findall(match["labels"]))))
        found[key][0].append(ts)
        found[key][1].append(value)
    return dict(found)


def series(name: str, **wanted: str) -> list[tuple[dict, list[float], list[float]]]:
    return [
        (dict(labels), times, values)
        for (metric, labels), (times, values) in samples().items()
        if metric == name and all(dict(labels).get(k) == v for k, v in wanted.items())
    ]


def in_range(times: list[float], at: float, seconds: float) -> slice:
    """The samples a range selector [seconds] at `at` selects (both ends included in 2.42)."""
    return slice(bisect_left(times, at - seconds), bisect_right(times, at))


def growth(times, values, at, seconds) -> float | None:
    """Last minus first sample in the range (no counter here resets); None under two samples.
    rate() extrapolates every series of one scrape alike, so ratios of these equal Prometheus's.
    """
    chosen = values[in_range(times, at, seconds)]
    return chosen[-1] - chosen[0] if len(chosen) >= 2 else None


def by_key(rows, key: str | None) -> dict[str, list]:
    grouped: dict[str, list] = defaultdict(list)
    for labels, times, values in rows:
        grouped[labels[key] if key else ""].append((times, values))
    return grouped


# -- the shapes, recomputed ----------------------------------------------------------------------


def latency(at: float, seconds: float, by: str | None = None) -> dict[str, tuple]:
    """(slow requests, requests): the histogram's _count minus its le="0.5" bucket."""
    counts = by_key(series("http_request_duration_seconds_count", job="shop"), by and "route")
    fast = by_key(
        series("http_request_duration_seconds_bucket", job="shop", le="0.5"), by and "route"
    )
    found = {}
    for key, rows in counts.items():
        total = [growth(t, v, at, seconds) for t, v in rows]
        good = [growth(t, v, at, seconds) for t, v in fast[key]]
        if None not in total and None not in good:
            found[key] = (sum(total) - sum(good), sum(total))
    return found


def nodes(at: float, seconds: float, by: str | None = None) -> dict[str, tuple]:
    """(node-minutes below 0.75, node-minutes): the subquery's steps, every whole minute in
    (at - window, at], each node's latest sample within the lookback."""
    first = (math.floor((at - seconds) / MINUTE) + 1) * MINUTE
    steps = range(first, math.floor(at / MINUTE) * MINUTE + 1, MINUTE)
    bad = present = 0
    for _, times, values in series("node_ready_ratio"):
        for step in steps:
            index = bisect_right(times, step) - 1
            if index >= 0 and times[index] >= step - LOOKBACK:
                present += 1
                bad += values[index] < 0.75
    return {"": (bad, present)} if present else {}


def probes(at: float, seconds: float, by: str | None = None, target: str | None = None) -> dict:
    """(failed probes, probes): the samples at 0, over all samples in the window."""
    rows = series("probe_success", **({"target": target} if target else {}))
    found = {}
    for key, parts in by_key(rows, by).items():
        chosen = [v for times, values in parts for v in values[in_range(times, at, seconds)]]
        if chosen:
            found[key] = (chosen.count(0.0), len(chosen))
    return found


def native(at: float, seconds: float, by: str | None = None) -> dict[str, tuple]:
    """(observations over 0.5 s, observations): the buckets above 0.5 s of schema 0 (indexes
    0 and up) over all, between the first and last sample in the window."""
    found = {}
    for route, histogram in workload_shapes.native_series().items():
        key = route if by else ""
        chosen = [s for s in histogram if at - seconds <= s.ts <= at]
        if len(chosen) < 2:
            continue
        first, last = chosen[0], chosen[-1]
        slow = sum(last.buckets[i] - first.buckets[i] for i in (0, 1))
        bad, total = found.get(key, (0, 0))
        found[key] = (bad + slow, total + last.count - first.count)
    return found


def promql_counts(prometheus, selector: str, bad: str, at: float, seconds: float, by=None):
    """(bad, all) increases by PromQL written here (the main workload's counters jitter and
    reset, which Prometheus's increase() handles)."""
    window = f"{round(seconds)}s"
    grouping = f" by ({by})" if by else ""
    totals = {
        r["metric"].get(by, ""): float(r["value"][1])
        for r in prometheus.query(f"sum{grouping}(increase({selector}[{window}]))", at)
    }
    bads = {
        r["metric"].get(by, ""): float(r["value"][1])
        for r in prometheus.query(f"sum{grouping}(increase({bad}[{window}]))", at)
    }
    return {k: (bads.get(k, 0.0), total) for k, total in totals.items() if total > 0}


def reference(prometheus, shape: str, selection: dict, at: float, seconds: float) -> dict:
    by = selection.get("by")
    if shape == "latency":
        return latency(at, seconds, by)
    if shape == "nodes":
        return nodes(at, seconds)
    if shape == "probes":
        return probes(at, seconds, by, selection.get("target"))
    if shape == "native":
        return native(at, seconds, by)
    if shape == "search_errors":
        search = 'http_requests_total{service="search"}'
        errors = 'http_requests_total{service="search",code=~"5.."}'
        return promql_counts(prometheus, search, errors, at, seconds)
    checkout = 'http_requests_total{service="checkout"}'
    errors = 'http_requests_total{service="checkout",code="500"}'
    return promql_counts(prometheus, checkout, errors, at, seconds, by)


def counts_events(name: str) -> bool:
    slo = SLO.objects.get(name=name)
    if slo.indicator_type == "raw":
        return False
    total = " ".join(slo.total_query.split())
    return slo.evaluation == "exact" or bool(oracle.COUNTED_TOTAL.fullmatch(total))


def expected(prometheus, name: str, at: float) -> dict[str, dict]:
    """The objects slo_evaluate should print for one SLO, by group name."""
    shape, selection, _ = shape_documents.SHAPES[name]
    counted = counts_events(name)
    windows = {"slo": WINDOW, **oracle.WINDOWS}
    measured = {w: reference(prometheus, shape, selection, at, s) for w, s in windows.items()}
    groups = set().union(*(m.keys() for m in measured.values()))
    found = {}
    for key in groups:
        errors = {}
        for window in windows:
            bad_total = measured[window].get(key)
            errors[window] = None if bad_total is None else bad_total[0] / bad_total[1]
        burns = {w: None if errors[w] is None else errors[w] / BUDGET for w in oracle.WINDOWS}
        label = f'{name}{{{selection["by"]}="{key}"}}' if selection.get("by") else name
        events = {
            w: (measured[w].get(key) or (0, 0))[1] if counted else None for w in oracle.WINDOWS
        }
        fired, low_traffic = alerts(burns, events)
        status = "no_data" if errors["slo"] is None else ("low_traffic" if low_traffic else "ok")
        found[label] = {
            "sli": None if errors["slo"] is None else 1 - errors["slo"],
            "error_budget_remaining": None if errors["slo"] is None else 1 - errors["slo"] / BUDGET,
            "burn_rates": burns,
            "alerts": fired,
            "data_status": status,
        }
    return found


def alerts(burns: dict, events: dict) -> tuple[list[dict], bool]:
    """The alerts that fire, and whether an alert's long window is short of events."""
    found, low_traffic = [], False
    for severity, long, short, percent in oracle.PAIRS:
        threshold = float(Fraction(percent, 100) * Fraction(WINDOW, oracle.WINDOWS[long]))
        count = events[long]
        short_of_events = count is not None and 0 < count < oracle.minimum_events(threshold, BUDGET)
        low_traffic = low_traffic or short_of_events
        holds = (
            None not in (burns[long], burns[short]) and min(burns[long], burns[short]) > threshold
        )
        if holds and not short_of_events:
            found.append(
                {
                    "severity": severity,
                    "long_window": long,
                    "short_window": short,
                    "burn_rate_threshold": threshold,
                }
            )
    return found, low_traffic


def evaluate(at: float) -> dict[str, dict]:
    out = io.StringIO()
    moment = datetime.fromtimestamp(at, UTC).isoformat()
    names = [arg for name in shape_documents.SHAPES for arg in ("--slo", name)]
    call_command("slo_evaluate", "--json", "--at", moment, *names, stdout=out)
    return {result["name"]: result for result in json.loads(out.getvalue())}


def close(actual, wanted, where, rel=1e-3, abs_tol=0.0):
    if wanted is None or actual is None:
        assert actual == wanted, where
    else:
        assert math.isclose(actual, wanted, rel_tol=rel, abs_tol=abs_tol), (where, actual, wanted)


def check(prometheus, results: dict, at: float, names) -> int:
    checked = 0
    for name in names:
        wanted = expected(prometheus, name, at)
        got = {k: v for k, v in results.items() if k == name or k.startswith(name + "{")}
        assert set(got) == set(wanted) or (not wanted and set(got) == {name}), (name, got, wanted)
        for label, want in wanted.items():
            result = got[label]
            where = f"{label} at {at}"
            assert result["evaluation"] == shape_documents.SHAPES[name][2], where
            assert result["data_status"] == want["data_status"], where
            close(result["sli"], want["sli"], f"{where}: sli")
            close(result["error_budget_remaining"], want["error_budget_remaining"],
                  f"{where}: budget", rel=0, abs_tol=1e-3)  # fmt: skip
            for window, burn in want["burn_rates"].items():
                close(result["burn_rates"][window], burn, f"{where}: burn {window}")
            assert result["alerts"] == want["alerts"], where
            checked += 1
    return checked


@pytest.fixture
def measured(settings, prometheus, shape_slos):
    settings.PROMETHEUS_URL = prometheus.url
    return prometheus


@pytest.mark.parametrize("moment", list(MOMENTS), ids=list(MOMENTS))
def test_every_shape_from_every_format_equals_its_reference(measured, moment):
    at = MOMENTS[moment]
    results = evaluate(at)
    backfilled = [
        name for name, (shape, _, _) in shape_documents.SHAPES.items() if shape != "native"
    ]
    assert check(measured, results, at, backfilled) >= len(backfilled)
    for name in backfilled:  # every imported SLO has data where its series exist
        group = [r for k, r in results.items() if k == name or k.startswith(name + "{")]
        assert group and {r["data_status"] for r in group} <= {"ok", "low_traffic"}, name


@pytest.mark.parametrize("moment", list(NATIVE_MOMENTS), ids=list(NATIVE_MOMENTS))
def test_native_histograms_equal_their_observations(measured, moment):
    at = NATIVE_MOMENTS[moment]
    results = evaluate(at)
    natives = [name for name, (shape, _, _) in shape_documents.SHAPES.items() if shape == "native"]
    assert check(measured, results, at, natives) == 8  # four ungrouped, two grouped by route


def test_the_outage_pages_the_slow_route_only(measured):
    results = evaluate(MOMENTS["slow /pay requests"])
    for name in ("shop-latency-by-route-pyrra", "shop-k8s-latency-by-route-clamped"):
        pay, cart = results[f'{name}{{route="/pay"}}'], results[f'{name}{{route="/cart"}}']
        assert {a["severity"] for a in pay["alerts"]} >= {"page"}, name
        assert not [a for a in cart["alerts"] if a["severity"] == "page"], name
        assert pay["group"] == {"route": "/pay"} and cart["group"] == {"route": "/cart"}


def test_before_a_series_exists_there_is_no_data_never_a_perfect_sli(measured):
    """The native histograms begin after the backfilled history: before, no data (not 100 %),
    on the promql path as on the exact one."""
    results = evaluate(MOMENTS["end of the backfilled history"])
    for name in ("shop-native", "shop-native-pyrra"):
        assert results[name]["data_status"] == "no_data"
        assert results[name]["sli"] is None and results[name]["alerts"] == []
    grouped = results["shop-native-by-route-pyrra"]
    assert (grouped["group"], grouped["data_status"]) == ({}, "no_data")


def test_each_path_is_recorded_on_the_slo(shape_slos):
    for name, (_, _, path) in shape_documents.SHAPES.items():
        assert SLO.objects.get(name=name).evaluation == path, name
