"""The promql path: Prometheus evaluates an SLI's own expressions over each window.

Sloth's semantics: `{{.window}}` in an expression is replaced by the window (5m, 30d, ...), and the
error ratio over that window is the error (or good) expression divided by the total expression;
a raw SLI's ratio expression is taken as it is. Every distinct expression is asked once for all
its windows, however many SLOs share it, and the answers are put together here: the series an events
expression gives are added up (by the SLO's grouping labels when it is grouped), so that an
expression without an outer sum counts like the exact path's selectors do.

`measure()` works for any moment and any windows (backtests ask for many). Pure module: no Django
imports.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from slo.definitions import GroupKey, Measured, QueryIndicator, SLODefinition
from slo.sources.base import Series, Source, SourceUnavailable, expression_values


class SeveralSeries(ValueError):
    """A ratio expression gave more than one series where one was expected."""


def roles(indicator: QueryIndicator) -> dict[str, str]:
    """The expressions of an SLI, by role."""
    if indicator.is_raw:
        return {"ratio": indicator.ratio}
    return {"numerator": indicator.numerator, "total": indicator.total}


def by_group(series: Series, group_by: Sequence[str], add: bool) -> dict[GroupKey, float]:
    """Values keyed by the group labels' values; added up (events) or one per group (a ratio).
    NaN and infinite values (0/0, x/0) are no data."""
    found: dict[GroupKey, float] = {}
    for labels, value in series:
        if not math.isfinite(value):
            continue
        key = tuple(labels.get(label, "") for label in group_by)
        if key in found and not add:
            where = ", ".join(f'{k}="{v}"' for k, v in zip(group_by, key, strict=True))
            raise SeveralSeries(
                "the ratio query gives several series"
                + (f" for {where}" if where else "")
                + ": aggregate it (e.g. avg by (...)) or group the SLO by the labels that "
                "tell them apart"
            )
        found[key] = found.get(key, 0.0) + value
    return found


def measure(
    source: Source,
    definitions: Sequence[SLODefinition],
    at: datetime,
    windows_of: Callable[[SLODefinition], Iterable[float]],
) -> dict:
    """Per definition, {window seconds: Measured}, or why it could not be measured."""
    wanted: dict[str, set[float]] = defaultdict(set)
    for definition in definitions:
        windows = {w for w in windows_of(definition) if w > 0}
        for expression in roles(definition.indicator).values():
            wanted[expression] |= windows
    if not any(wanted.values()):
        return {d.name: {w: Measured() for w in windows_of(d)} for d in definitions}
    try:
        answers = expression_values(source, {e: sorted(w) for e, w in wanted.items() if w}, at)
    except SourceUnavailable as exc:
        return dict.fromkeys((d.name for d in definitions), str(exc))
    measured: dict = {}
    for definition in definitions:
        expressions = roles(definition.indicator)
        failed = [answers[e] for e in expressions.values() if isinstance(answers.get(e), Exception)]
        if failed:
            measured[definition.name] = str(failed[0])
            continue
        try:
            measured[definition.name] = {
                window: _measured(definition, expressions, answers, window)
                for window in windows_of(definition)
            }
        except SeveralSeries as exc:
            measured[definition.name] = str(exc)
    return measured


def _measured(
    definition: SLODefinition, expressions: dict[str, str], answers: dict, window: float
) -> Measured:
    raw = definition.indicator.is_raw
    if window <= 0:  # an empty window (a calendar period that has just begun)
        return Measured({}, None if raw else {})
    group_by = definition.group_by
    if raw:
        return Measured(by_group(answers[expressions["ratio"]][window], group_by, False), None)
    return Measured(
        by_group(answers[expressions["numerator"]][window], group_by, True),
        by_group(answers[expressions["total"]][window], group_by, True),
    )
