"""The promql path: Prometheus evaluates an SLI's own expressions over each window.

Sloth's semantics: `{{.window}}` in an expression is replaced by the window (5m, 30d, ...), and the
error ratio over that window is the error (or good) expression divided by the total expression;
a raw SLI's ratio expression is taken as it is. Every distinct expression is asked once for all
its windows (and the pieces of a window that maintenance leaves), however many SLOs share it,
and the answers are put together here: the series an events expression gives are added up (by
the SLO's grouping labels when it is grouped), so that an expression without an outer sum
counts like the exact path's selectors do.

`measure()` works for any moment and any windows (backtests ask for many). Pure module: no Django
imports.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

import numpy as np

from slo.definitions import GroupKey, Measured, QueryIndicator, SLODefinition
from slo.expressions import EVENTS, PER_SECOND, fill_window, window_unit
from slo.sources.base import (
    Series,
    Source,
    SourceUnavailable,
    Span,
    add_present,
    expression_values,
)
from slo.windows import promql_duration


class SeveralSeries(ValueError):
    """A ratio expression gave more than one series where one was expected."""


def roles(indicator: QueryIndicator) -> dict[str, str]:
    """The expressions of an SLI, by role."""
    if indicator.is_raw:
        return {"ratio": indicator.ratio}
    return {"numerator": indicator.numerator, "total": indicator.total}


def queries(indicator: QueryIndicator, window_seconds: float) -> dict[str, str]:
    """The queries that measure an SLI over one window, by role."""
    window = promql_duration(window_seconds)
    return {role: fill_window(text, window) for role, text in roles(indicator).items()}


def several_series(group_by: Sequence[str], key: GroupKey) -> SeveralSeries:
    where = ", ".join(f'{k}="{v}"' for k, v in zip(group_by, key, strict=True))
    return SeveralSeries(
        "the ratio query gives several series"
        + (f" for {where}" if where else "")
        + ": aggregate it (e.g. avg by (...)) or group the SLO by the labels that tell them apart"
    )


def by_group(series: Series, group_by: Sequence[str], add: bool) -> dict[GroupKey, float]:
    """Values keyed by the group labels' values; added up (events) or one per group (a ratio).
    NaN and infinite values (0/0, x/0) are no data."""
    found: dict[GroupKey, float] = {}
    for labels, value in series:
        if not math.isfinite(value):
            continue
        key = tuple(labels.get(label, "") for label in group_by)
        if key in found and not add:
            raise several_series(group_by, key)
        found[key] = found.get(key, 0.0) + value
    return found


def cuttable(indicator: QueryIndicator) -> bool:
    """Whether the events of this SLI add up over pieces of a window (both expressions count
    events, or both give them per second), so that maintenance can be cut out of it."""
    if indicator.is_raw:
        return False
    unit = window_unit(indicator.numerator)
    return bool(unit) and unit == window_unit(indicator.total)


def events_scale(indicator: QueryIndicator, window_seconds: float) -> float | None:
    """What turns the total expression's value over a window into a number of events."""
    if indicator.is_raw:
        return None
    unit = window_unit(indicator.total)
    return {EVENTS: 1.0, PER_SECOND: window_seconds}.get(unit)


def by_group_series(
    series: list[tuple[dict[str, str], np.ndarray]], group_by: Sequence[str], add: bool
) -> dict[GroupKey, np.ndarray]:
    """`by_group` at many moments: per group, the series added up point by point (events), or
    the one series of each group (a ratio). NaN where there is no value."""
    found: dict[GroupKey, np.ndarray] = {}
    for labels, values in series:
        values = np.where(np.isfinite(values), values, np.nan)
        key = tuple(labels.get(label, "") for label in group_by)
        if key not in found:
            found[key] = values
            continue
        if not add and np.any(~np.isnan(found[key]) & ~np.isnan(values)):
            raise several_series(group_by, key)
        found[key] = add_present(found[key], values)
    return found


def measure(
    source: Source,
    definitions: Sequence[SLODefinition],
    at: datetime,
    windows_of: Callable[[SLODefinition], Iterable[float]],
    spans_of: Callable[[SLODefinition, float], Sequence[Span]] | None = None,
) -> dict:
    """Per definition, {window seconds: Measured}, or why it could not be measured. A window
    is measured whole, or over the pieces (length, end) that `spans_of` gives it, each piece's
    events added up (cuttable SLIs only). Each distinct expression is one question for all the
    spans any definition needs of it."""
    moment = at.timestamp()

    def spans(definition: SLODefinition, window: float) -> Sequence[Span]:
        return spans_of(definition, window) if spans_of else ((window, moment),)

    plans = {
        d.name: {w: [span for span in spans(d, w) if span[0] > 0] for w in windows_of(d)}
        for d in definitions
    }
    wanted: dict[str, set[Span]] = defaultdict(set)
    for definition in definitions:
        needed = {span for pieces in plans[definition.name].values() for span in pieces}
        for expression in roles(definition.indicator).values():
            wanted[expression] |= needed
    if not any(wanted.values()):
        return {d.name: {w: Measured() for w in windows_of(d)} for d in definitions}
    try:
        answers = expression_values(source, {e: sorted(s) for e, s in wanted.items() if s})
    except SourceUnavailable as exc:
        return dict.fromkeys((d.name for d in definitions), str(exc))
    measured: dict = {}
    for definition in definitions:
        expressions = roles(definition.indicator)
        failed = [answers[e] for e in expressions.values() if isinstance(answers.get(e), Exception)]
        if failed:
            measured[definition.name] = str(failed[0])
            continue
        plan = plans[definition.name]
        try:
            measured[definition.name] = {
                window: _measured(definition, plan[window], expressions, answers)
                for window in windows_of(definition)
            }
        except SeveralSeries as exc:
            measured[definition.name] = str(exc)
    return measured


def _measured(
    definition: SLODefinition, pieces: Sequence[Span], expressions: dict[str, str], answers: dict
) -> Measured:
    indicator = definition.indicator
    raw = indicator.is_raw
    if not pieces:  # an empty window (a calendar period that has just begun, or all maintenance)
        return Measured({}, None if raw else {})
    group_by = definition.group_by

    def found(role: str, span: Span) -> dict[GroupKey, float]:
        return by_group(answers[expressions[role]][span], group_by, not raw)

    if raw:
        (span,) = pieces
        return Measured(found("ratio", span), None, None)
    if len(pieces) == 1:
        (span,) = pieces
        return Measured(
            found("numerator", span), found("total", span), events_scale(indicator, span[0])
        )
    numerator: dict[GroupKey, float] = {}
    total: dict[GroupKey, float] = {}
    for span in pieces:
        scale = events_scale(indicator, span[0]) or 1.0
        for role, sums in (("numerator", numerator), ("total", total)):
            for key, value in found(role, span).items():
                sums[key] = sums.get(key, 0.0) + value * scale
    return Measured(numerator, total, 1.0)
