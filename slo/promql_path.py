"""The promql path: Prometheus evaluates an SLI's own expressions over each window.

Sloth's semantics: `{{.window}}` in an expression is replaced by the window (5m, 30d, ...), and the
error ratio over that window is the error (or good) expression divided by the total expression;
a raw SLI's ratio expression is taken as it is. Every distinct expression is sent once per
window, however many SLOs share it, and the answers are put together here: the series an events
expression gives are added up (by the SLO's grouping labels when it is grouped), so that an
expression without an outer sum counts like the exact path's selectors do.

`measure()` works for any moment and any windows (backtests ask for many). Pure module: no Django
imports.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime

import numpy as np

from slo.definitions import GroupKey, Measured, QueryIndicator, SLODefinition
from slo.expressions import EVENTS, PER_SECOND, fill_window, window_unit
from slo.sources.base import Source, SourceUnavailable, add_present
from slo.windows import promql_duration

Series = list[tuple[dict[str, str], float]]


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
    spans_of: Callable[[SLODefinition, float], Sequence[tuple[float, float]]] | None = None,
) -> dict:
    """Per definition, {window seconds: Measured}, or why it could not be measured. A window
    is measured whole, or over the pieces (length, end) that `spans_of` gives it, each piece's
    events added up (cuttable SLIs only)."""
    moment = at.timestamp()

    def spans(definition: SLODefinition, window: float) -> Sequence[tuple[float, float]]:
        return spans_of(definition, window) if spans_of else ((window, moment),)

    plans = {
        d.name: {
            w: [(span, queries(d.indicator, span[0])) for span in spans(d, w) if span[0] > 0]
            for w in windows_of(d)
        }
        for d in definitions
    }
    by_end: dict[float, set[str]] = defaultdict(set)
    for plan in plans.values():
        for pieces in plan.values():
            for (_, end), texts in pieces:
                by_end[end].update(texts.values())
    if not by_end:
        return {d.name: {w: Measured() for w in windows_of(d)} for d in definitions}
    answers: dict[tuple[float, str], list | SourceUnavailable] = {}
    try:
        for end, texts in sorted(by_end.items()):
            when = at if end == moment else datetime.fromtimestamp(end, tz=UTC)
            found = source.instant_values(sorted(texts), when)
            answers.update({(end, text): value for text, value in found.items()})
    except SourceUnavailable as exc:
        return dict.fromkeys((d.name for d in definitions), str(exc))
    measured: dict = {}
    for definition in definitions:
        plan = plans[definition.name]
        failed = [
            answers[span[1], q]
            for pieces in plan.values()
            for span, qs in pieces
            for q in qs.values()
            if not isinstance(answers[span[1], q], list)
        ]
        if failed:
            measured[definition.name] = str(failed[0])
            continue
        try:
            measured[definition.name] = {
                window: _measured(definition, window, plan[window], answers)
                for window in windows_of(definition)
            }
        except SeveralSeries as exc:
            measured[definition.name] = str(exc)
    return measured


def _measured(definition: SLODefinition, window: float, pieces: list, answers: dict) -> Measured:
    indicator = definition.indicator
    raw = indicator.is_raw
    if not pieces:  # an empty window (a calendar period that has just begun, or all maintenance)
        return Measured({}, None if raw else {})
    group_by = definition.group_by
    if raw:
        ((span, texts),) = pieces
        return Measured(by_group(answers[span[1], texts["ratio"]], group_by, False), None, None)
    if len(pieces) == 1:
        ((span, texts),) = pieces
        return Measured(
            by_group(answers[span[1], texts["numerator"]], group_by, True),
            by_group(answers[span[1], texts["total"]], group_by, True),
            events_scale(indicator, window),
        )
    numerator: dict[GroupKey, float] = {}
    total: dict[GroupKey, float] = {}
    for (length, end), texts in pieces:
        scale = events_scale(indicator, length) or 1.0
        for role, found in (("numerator", numerator), ("total", total)):
            for key, value in by_group(answers[end, texts[role]], group_by, True).items():
                found[key] = found.get(key, 0.0) + value * scale
    return Measured(numerator, total, 1.0)
