"""The same quantities as slo_evaluate, computed by PromQL on the session's Prometheus.

Written from the SLO's fields and docs/architecture.md ("The SLO maths") alone (not from
slo/engine.py, slo/promql_path.py or slo/rules.py), so that a mistake in grouping, matching,
windows or maths shows as a disagreement. Per SLO and window, one query that Prometheus answers
with the error ratio (one series per group of a grouped SLO):

- counters (the exact path): every counter selector of the stored queries becomes
  `increase(selector[W])`, summed (by the SLO's grouping labels) as the queries sum them; bad
  (or good) over all events, a missing numerator next to events counting as none;
- expressions (the promql path): the SLI's own expressions with `{{.window}}` replaced by W
  (Sloth's semantics), the series of an events expression added up (by group), the error
  expression over the total expression; a raw ratio expression as it is.

Alerts are held back by the low-traffic guard (docs/slos.md): the events of each alert's long
window, per group, from the total query (the exact path's increases; on the promql path a sum of
rate() times the window, or of increase(), count_over_time() or sum_over_time()).
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime, time, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

import promql_parser

from slo.models import SLO

WINDOWS = {"5m": 300, "30m": 1800, "1h": 3600, "2h": 7200, "6h": 21600, "1d": 86400, "3d": 259200}
UNITS = {"h": 3600, "d": 86400, "w": 604800, "M": 30 * 86400}
PAIRS = [("page", "1h", "5m", 2), ("page", "6h", "30m", 5), ("ticket", "1d", "2h", 10)]
PAIRS += [("ticket", "3d", "6h", 10)]
TEMPLATE = re.compile(r"\{\{\s*\.window\s*\}\}")

Key = tuple[str, ...]


def _period(slo: SLO) -> int:
    return int(slo.window_duration[:-1]) * UNITS[slo.window_duration[-1]]


def window_seconds(slo: SLO, at: float) -> float:
    if slo.window_kind == "rolling":
        return _period(slo)
    # Weekly calendar periods from the start date, in local wall-clock time.
    tz = ZoneInfo(slo.calendar_tz)
    first = slo.calendar_start.astimezone(tz).date()
    local = datetime.fromtimestamp(at, UTC).astimezone(tz)
    days = (local.date() - first).days // 7 * 7
    start = datetime.combine(first + timedelta(days=days), time(0), tz)
    if start > local:
        start = datetime.combine(first + timedelta(days=days - 7), time(0), tz)
    return at - start.timestamp()


def _finite(value: float) -> float | None:
    return None if math.isnan(value) or math.isinf(value) else value


def _value(prometheus, promql: str, at: float) -> float | None:
    value = prometheus.value(promql, at)
    return None if value is None else _finite(value)


def _by_group(prometheus, promql: str, at: float, group_by: list[str]) -> dict[Key, float | None]:
    """The query's value per group (the values of `group_by`); None where it is not a number."""
    found: dict[Key, float | None] = {}
    for series in prometheus.query(promql, at):
        key = tuple(series["metric"].get(label, "") for label in group_by)
        if key in found:
            raise ValueError(f"{promql} gives several series for {key}")
        found[key] = _finite(float(series["value"][1]))
    return found


def _increases(node, window: str) -> str:
    """A stored counters query with each selector replaced by its increase over `window`."""
    if isinstance(node, promql_parser.VectorSelector):
        return f"increase({node}[{window}])"
    if isinstance(node, promql_parser.ParenExpr):
        return f"({_increases(node.expr, window)})"
    if isinstance(node, promql_parser.UnaryExpr):
        return f"-({_increases(node.expr, window)})"
    if isinstance(node, promql_parser.AggregateExpr) and str(node.op) == "sum":
        labels = node.modifier.labels if node.modifier is not None else []
        return f"sum by ({', '.join(labels)}) ({_increases(node.expr, window)})"
    if isinstance(node, promql_parser.BinaryExpr) and str(node.op) in ("+", "-"):
        return f"({_increases(node.lhs, window)}) {node.op} ({_increases(node.rhs, window)})"
    raise ValueError(f"not a sum of counters: {node}")


def _events(slo: SLO, query: str, window: str, by: str) -> str:
    """All the events a numerator or total query counts over the window, by group."""
    if slo.evaluation == "exact":
        return f"sum{by} ({_increases(promql_parser.parse(query), window)})"
    return f"sum{by} ({TEMPLATE.sub(window, query)})"


def _goodness(slo: SLO) -> str:
    step = slo.timeslice_window
    if slo.indicator_type == "threshold":
        op = {"lt": "<", "lte": "<=", "gt": ">", "gte": ">="}[slo.threshold_op]
        return f"({slo.threshold_query}) {op} bool {slo.threshold_value}"
    numerator = f"(sum(increase({slo.numerator_query}[{step}])) or vector(0))"
    total = f"(sum(increase({slo.total_query}[{step}])) > 0)"
    good = (
        f"{numerator} / {total}" if slo.numerator_kind == "good" else f"1 - {numerator} / {total}"
    )
    if slo.budgeting_method == "Timeslices":
        return f"({good}) >= bool {slo.timeslice_target}"
    return good


def error_ratios(prometheus, slo: SLO, at: float, seconds: float) -> dict[Key, float | None]:
    """The error ratio over the window ending at `at`, per group (the key () when the SLO is not
    grouped); a group without data is absent, one whose events add up to nothing is None."""
    if slo.budgeting_method != "Occurrences":
        step = int(slo.timeslice_window[:-1]) * 60
        if seconds < step:
            return {}
        span = f"{round(seconds * 1000) - 1}ms:{slo.timeslice_window}"
        goodness = _goodness(slo)
        good = _value(
            prometheus,
            f"sum_over_time(({goodness})[{span}]) / count_over_time(({goodness})[{span}])",
            at,
        )
        return {} if good is None else {(): 1 - good}
    window = f"{round(seconds * 1000)}ms"
    group_by = list(slo.group_by or [])
    bad = slo.numerator_kind == "bad"
    if slo.indicator_type == "raw":
        ratio = f"({TEMPLATE.sub(window, slo.ratio_query)})"
        found = _by_group(prometheus, ratio if bad else f"1 - {ratio}", at, group_by)
        return {key: value for key, value in found.items() if value is not None}
    by = f" by ({', '.join(group_by)})" if group_by else ""
    numerator = _events(slo, slo.numerator_query, window, by)
    total = _events(slo, slo.total_query, window, by)
    ratio = f"({numerator} or 0 * {total}) / {total}"
    return _by_group(prometheus, ratio if bad else f"1 - ({ratio})", at, group_by)


def error_ratio(prometheus, slo: SLO, at: float, seconds: float) -> float | None:
    return error_ratios(prometheus, slo, at, seconds).get(())


# A promql-path total the low-traffic guard counts events from (docs/slos.md, "The low-traffic
# guard"): a sum of one rate(), increase(), count_over_time() or sum_over_time() over the window.
COUNTED_TOTAL = re.compile(
    r"sum(?: by \([^)]*\))? ?\((rate|increase|count_over_time|sum_over_time)"
    r"\([^\[\]()]+\[\{\{ ?\.window ?\}\}\]\)\)"
)


def events(prometheus, slo: SLO, at: float, seconds: float) -> dict[Key, float | None] | None:
    """All events in a window, per group (an Occurrences SLO's total), for the low-traffic
    guard; None when the SLI gives no count (a raw ratio, time slices, a total of another
    shape)."""
    if slo.budgeting_method != "Occurrences" or slo.indicator_type == "raw":
        return None
    group_by = list(slo.group_by or [])
    by = f" by ({', '.join(group_by)})" if group_by else ""
    window = f"{round(seconds * 1000)}ms"
    total = _events(slo, slo.total_query, window, by)
    if slo.evaluation != "exact":
        counted = COUNTED_TOTAL.fullmatch(" ".join(slo.total_query.split()))
        if counted is None:
            return None
        if counted.group(1) == "rate":  # events per second, times the window
            total = f"({total}) * {seconds}"
    return _by_group(prometheus, total, at, group_by)


def minimum_events(threshold: float, budget: float) -> int:
    """docs/slos.md: the fewest events at which one bad event alone cannot exceed the
    threshold (its burn rate 1 / N / budget)."""
    needed = 1
    while 1 / needed / budget > threshold:
        needed += 1
    return needed


def _figures(
    slo: SLO,
    slo_error: float | None,
    errors: dict[str, float | None],
    counts: dict[str, float | None],
) -> dict:
    """One slo_evaluate object from the error ratios over the SLO window and each burn window,
    and the events of each burn window (None where the SLI gives no count)."""
    budget = 1 - slo.objective
    burns = {label: None if err is None else err / budget for label, err in errors.items()}
    alerts = []
    low_traffic = False
    for severity, long, short, percent in PAIRS:
        threshold = float(Fraction(percent, 100) * Fraction(_period(slo), WINDOWS[long]))
        needed = slo.min_events if slo.min_events is not None else minimum_events(threshold, budget)
        count = counts[long]
        short_of_events = count is not None and 0 < count < needed
        low_traffic = low_traffic or short_of_events
        holds = (
            None not in (burns[long], burns[short]) and min(burns[long], burns[short]) > threshold
        )
        if holds and not short_of_events:
            alerts.append(
                {
                    "severity": severity,
                    "long_window": long,
                    "short_window": short,
                    "burn_rate_threshold": threshold,
                }
            )
    return {
        "name": slo.name,
        "service": slo.service.name,
        "objective": slo.objective,
        "sli": None if slo_error is None else 1 - slo_error,
        "error_budget_remaining": None if slo_error is None else 1 - slo_error / budget,
        "burn_rates": burns,
        "alerts": alerts,
        "data_status": "no_data" if slo_error is None else ("low_traffic" if low_traffic else "ok"),
        "evaluation": slo.evaluation,
    }


def expected_objects(prometheus, slo: SLO, at: float) -> list[dict]:
    """The slo_evaluate objects for `slo` at `at`, from PromQL: one, or one per group of a
    grouped SLO (named `name{label="value",...}`)."""
    windows = {"slo": window_seconds(slo, at), **WINDOWS}
    errors = {label: error_ratios(prometheus, slo, at, s) for label, s in windows.items()}
    counts = {label: events(prometheus, slo, at, s) for label, s in WINDOWS.items()}
    group_by = list(slo.group_by or [])
    keys = sorted(set().union(*errors.values())) if group_by else [()]
    if not keys:  # a grouped SLO without any data: the definition itself, without data
        nothing = dict.fromkeys(WINDOWS)
        return [{**_figures(slo, None, nothing, nothing), "group": {}}]
    objects = []
    for key in keys:
        found = _figures(
            slo,
            errors["slo"].get(key),
            {label: errors[label].get(key) for label in WINDOWS},
            {label: None if c is None else c.get(key) for label, c in counts.items()},
        )
        if group_by:
            pairs = ",".join(
                f"{label}={json.dumps(value, ensure_ascii=False)}"
                for label, value in zip(group_by, key, strict=True)
            )
            found.update(name=f"{slo.name}{{{pairs}}}", group=dict(zip(group_by, key, strict=True)))
        objects.append(found)
    return objects


def expected(prometheus, slo: SLO, at: float) -> dict:
    """The slo_evaluate object for an SLO that is not grouped, at `at`, from PromQL."""
    (found,) = expected_objects(prometheus, slo, at)
    return found
