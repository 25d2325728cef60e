"""The same quantities as slo_evaluate, computed by PromQL on the session's Prometheus.

Written from the SLO's fields and docs/architecture.md ("The SLO maths") alone (not from
slo/engine.py or slo/rules.py), so that a mistake in grouping, matching, windows or maths shows as
a disagreement.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, time, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

from slo.models import SLO

WINDOWS = {"5m": 300, "30m": 1800, "1h": 3600, "2h": 7200, "6h": 21600, "1d": 86400, "3d": 259200}
UNITS = {"h": 3600, "d": 86400, "w": 604800, "M": 30 * 86400}
PAIRS = [("page", "1h", "5m", 2), ("page", "6h", "30m", 5), ("ticket", "1d", "2h", 10)]
PAIRS += [("ticket", "3d", "6h", 10)]


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


def _value(prometheus, promql: str, at: float) -> float | None:
    value = prometheus.value(promql, at)
    return None if value is None or math.isnan(value) or math.isinf(value) else value


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


def error_ratio(prometheus, slo: SLO, at: float, seconds: float) -> float | None:
    if slo.budgeting_method != "Occurrences":
        step = int(slo.timeslice_window[:-1]) * 60
        if seconds < step:
            return None
        span = f"{round(seconds * 1000) - 1}ms:{slo.timeslice_window}"
        goodness = _goodness(slo)
        good = _value(
            prometheus,
            f"sum_over_time(({goodness})[{span}]) / count_over_time(({goodness})[{span}])",
            at,
        )
        return None if good is None else 1 - good
    w = f"{round(seconds * 1000)}ms"
    numerator = f"(sum(increase({slo.numerator_query}[{w}])) or vector(0))"
    ratio = f"{numerator} / sum(increase({slo.total_query}[{w}]))"
    return _value(prometheus, ratio if slo.numerator_kind == "bad" else f"1 - {ratio}", at)


def events(prometheus, slo: SLO, at: float, seconds: float) -> float | None:
    """All events in a window (an Occurrences SLO's total), for the low-traffic guard."""
    if slo.budgeting_method != "Occurrences":
        return None
    return _value(prometheus, f"sum(increase({slo.total_query}[{round(seconds)}s]))", at)


def minimum_events(threshold: float, budget: float) -> int:
    """docs/slos.md: the fewest events at which one bad event alone cannot exceed the
    threshold (its burn rate 1 / N / budget)."""
    needed = 1
    while 1 / needed / budget > threshold:
        needed += 1
    return needed


def expected(prometheus, slo: SLO, at: float) -> dict:
    """The slo_evaluate object for `slo` at `at`, from PromQL."""
    budget = 1 - slo.objective
    slo_error = error_ratio(prometheus, slo, at, window_seconds(slo, at))
    burns = {}
    for label, seconds in WINDOWS.items():
        err = error_ratio(prometheus, slo, at, seconds)
        burns[label] = None if err is None else err / budget
    alerts = []
    low_traffic = False
    for severity, long, short, percent in PAIRS:
        threshold = float(Fraction(percent, 100) * Fraction(_period(slo), WINDOWS[long]))
        needed = slo.min_events if slo.min_events is not None else minimum_events(threshold, budget)
        count = events(prometheus, slo, at, WINDOWS[long])
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
    }
