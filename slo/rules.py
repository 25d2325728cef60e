"""Prometheus recording and alerting rules for SLOs (`slo_rules`), equal to what SSOps computes.

Per SLO, one group records the error ratio over each burn-rate window and over the SLO window,
event-weighted — (sum of increases of bad) / (sum of increases of all), never a mean of 5-minute
ratios — then the budget left, and alerts with the multiwindow, multi-burn-rate thresholds
scaled to the SLO's period. An SLI on the promql path records its own expressions with
`{{.window}}` filled in, added up as the engine adds them; a grouped SLO records one series per
group (its alerts fire per group). Timeslices SLOs average per-slice goodness over a subquery
whose points are the slice ends inside the window, as the engine does. A calendar window is
recorded as a rolling window of its nominal length (Prometheus rules cannot restart at a period
start).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from slo import maths, promql_path
from slo.definitions import TIMESLICES, RatioIndicator, SLODefinition
from slo.expressions import Counters, fill_window, sum_by
from slo.windows import promql_duration

ERROR_RATIO = "slo:sli_error:ratio_rate"
EVENTS = "slo:sli_events:total"
BUDGET_REMAINING = "slo:error_budget:remaining"
THRESHOLD_OPS = {"lt": "<", "lte": "<=", "gt": ">", "gte": ">="}


# Labels SSOps sets on the rules; a group label of the same name is kept as exported_<name>.
RULE_LABELS = ("slo", "service", "team", "severity", "alertname")


def _increases(counters: Counters, window: str, group_by: Sequence[str]) -> str:
    parts = []
    for number, term in enumerate(counters.terms):
        text = f"{sum_by(group_by)}(increase({term.selector}[{window}]))"
        sign = "+" if term.sign > 0 else "-"
        parts.append((text if term.sign > 0 else f"-{text}") if number == 0 else f"{sign} {text}")
    return " ".join(parts) if len(parts) == 1 else f"({' '.join(parts)})"


def _events_ratio(numerator: str, total: str, good: bool, group_by: Sequence[str]) -> str:
    """Good or bad events over all events; no numerator series means none of those events."""
    none = "vector(0)" if not group_by else f"0 * {total}"
    ratio = f"({numerator} or {none}) / {total}"
    return f"1 - {ratio}" if good else ratio


def _ratio_error(definition: SLODefinition, window: str) -> str:
    indicator, group_by = definition.indicator, definition.group_by
    if isinstance(indicator, RatioIndicator):
        numerator = _increases(indicator.numerator, window, group_by)
        total = _increases(indicator.total, window, group_by)
        return _events_ratio(numerator, total, indicator.numerator_is_good, group_by)
    if indicator.is_raw:
        ratio = f"({fill_window(indicator.ratio, window)})"
        return f"1 - {ratio}" if indicator.numerator_is_good else ratio
    numerator = f"{sum_by(group_by)}({fill_window(indicator.numerator, window)})"
    total = f"{sum_by(group_by)}({fill_window(indicator.total, window)})"
    return _events_ratio(numerator, total, indicator.numerator_is_good, group_by)


def events_expr(definition: SLODefinition, window_seconds: int) -> str:
    """All events over a window, for the low-traffic guard; "" when the SLI does not count
    events (a raw ratio, an expression that is not events, time slices)."""
    if definition.is_sliced:
        return ""
    indicator, group_by = definition.indicator, definition.group_by
    window = promql_duration(window_seconds)
    if isinstance(indicator, RatioIndicator):
        return _exported(_increases(indicator.total, window, group_by), group_by)
    scale = promql_path.events_scale(indicator, window_seconds)
    if scale is None:
        return ""
    total = f"{sum_by(group_by)}({fill_window(indicator.total, window)})"
    if scale != 1.0:
        total = f"{total} * {scale!r}"
    return _exported(total, group_by)


def _exported(expr: str, group_by: Sequence[str]) -> str:
    """The expression with each group label that a rule label would overwrite copied to
    exported_<name> first (as the alerts SSOps sends name it)."""
    for label in group_by:
        if label in RULE_LABELS:
            expr = f'label_replace({expr}, "exported_{label}", "$1", "{label}", "(.*)")'
    return expr


def slice_goodness_expr(definition: SLODefinition) -> str:
    """Per slice: the good ratio (RatioTimeslices), or 1/0 for a slice that met its target."""
    indicator = definition.indicator
    step = promql_duration(definition.timeslice_seconds)
    if not isinstance(indicator, RatioIndicator):
        op = THRESHOLD_OPS[indicator.op]
        return f"(({indicator.query}) {op} bool {indicator.threshold!r})"
    numerator = f"({_increases(indicator.numerator, step, ())} or vector(0))"
    ratio = f"{numerator} / ({_increases(indicator.total, step, ())} > 0)"
    good = ratio if indicator.numerator_is_good else f"1 - {ratio}"
    if definition.budgeting == TIMESLICES:
        return f"(({good}) >= bool {definition.timeslice_target!r})"
    return f"({good})"


def error_ratio_expr(definition: SLODefinition, window_seconds: int) -> str:
    if not definition.is_sliced:
        expr = _ratio_error(definition, promql_duration(window_seconds))
        return _exported(expr, definition.group_by)
    count = window_seconds // definition.timeslice_seconds
    if count == 0:
        return ""
    # Slice ends t with at - window < t <= at: a subquery range one millisecond short.
    span = promql_duration((window_seconds * 1000 - 1) / 1000)
    step = promql_duration(definition.timeslice_seconds)
    return f"1 - avg_over_time({slice_goodness_expr(definition)}[{span}:{step}])"


def _selector(name: str, labels: Mapping[str, str]) -> str:
    return f'{name}{{slo="{labels["slo"]}"}}'


def slo_rule_group(
    definition: SLODefinition,
    *,
    alert_labels: Mapping[str, Mapping[str, str]] | None = None,
    annotations: Mapping[str, str] | None = None,
    severity_annotations: Mapping[str, Mapping[str, str]] | None = None,
    severities: Sequence[str] = ("page", "ticket"),
) -> dict:
    labels = {"slo": definition.name, "service": definition.service, "team": definition.team}
    window = definition.window.period_seconds
    windows = {**maths.BURN_WINDOWS, str(definition.window.duration): window}
    rules = []
    for label, seconds in windows.items():
        expr = error_ratio_expr(definition, seconds)
        if expr:
            rules.append({"record": f"{ERROR_RATIO}{label}", "expr": expr, "labels": labels})
    guarded = {}
    for alert in maths.alert_thresholds(window):
        needed = maths.min_events_for(alert, definition.objective, definition.min_events)
        expr = events_expr(definition, maths.BURN_WINDOWS[alert.long_window]) if needed else ""
        if expr and alert.long_window not in guarded:
            rules.append({"record": f"{EVENTS}{alert.long_window}", "expr": expr, "labels": labels})
        if expr:
            guarded[alert.long_window, alert.short_window] = needed
            guarded[alert.long_window] = True
    budget = f"(1 - {definition.objective!r})"
    slo_error = _selector(f"{ERROR_RATIO}{definition.window.duration}", labels)
    rules.append(
        {"record": BUDGET_REMAINING, "expr": f"1 - {slo_error} / {budget}", "labels": labels}
    )
    recorded = {rule["record"] for rule in rules}
    for severity in severities:
        pairs = []
        for alert in maths.alert_thresholds(window):
            long_name = f"{ERROR_RATIO}{alert.long_window}"
            short_name = f"{ERROR_RATIO}{alert.short_window}"
            if alert.severity != severity or not {long_name, short_name} <= recorded:
                continue
            threshold = repr(alert.burn_rate_threshold)
            # The low-traffic guard: enough events in the long window (docs/slos.md).
            needed = guarded.get((alert.long_window, alert.short_window))
            guard = (
                f" and {_selector(f'{EVENTS}{alert.long_window}', labels)} >= {needed}"
                if needed
                else ""
            )
            pairs.append(
                f"({_selector(long_name, labels)} / {budget} > {threshold}"
                f" and {_selector(short_name, labels)} / {budget} > {threshold}{guard})"
            )
        if not pairs:
            continue
        extra = {**(alert_labels or {}).get("*", {}), **(alert_labels or {}).get(severity, {})}
        rules.append(
            {
                "alert": extra.pop("alertname", "SLOErrorBudgetBurn"),
                "expr": "\n or ".join(pairs),
                "labels": {**extra, **labels, "severity": severity},
                "annotations": {
                    "summary": f"SLO {definition.name} of {definition.service} is burning its "
                    "error budget",
                    **(annotations or {}),
                    **(severity_annotations or {}).get(severity, {}),
                },
            }
        )
    return {"name": f"ssops-slo-{definition.name}", "rules": rules}


def rule_file(groups: Sequence[dict]) -> dict:
    return {"groups": list(groups)}
