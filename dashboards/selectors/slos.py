"""Reads of an SLO's dashboard page: its history over the window (the same snapshots the SLO
page charts) with the burn rates of each, and its alert history."""

from __future__ import annotations

from dataclasses import dataclass

from slo.choices import DataStatus
from slo.models import SLO
from slo.selectors import slo_history, slo_visible
from slo.views import StatusMessage, status_message


def slo_window_history(*, slo: SLO) -> list[tuple]:
    """(at, sli, budget remaining, data status, burn rates) over the SLO's window, oldest first:
    one snapshot an hour beyond two days (two queries on the (slo, at) index)."""
    history = slo_history(slo=slo)
    if not history:
        return []
    rates = dict(
        slo.snapshots.filter(at__in=[row[0] for row in history]).values_list("at", "burn_rates")
    )
    return [(*row, rates.get(row[0]) or {}) for row in history]


@dataclass
class SourceProblem:
    """SLOs that cannot be measured for one reason: the same source failing the same way."""

    message: StatusMessage
    slos: list[str]
    count: int

    @property
    def more(self) -> int:
        return self.count - len(self.slos)


def source_problems(*, user, limit: int = 500) -> list[SourceProblem]:
    """The SLOs whose source cannot answer (or has no data), grouped by source and reason, the
    longest-standing first, each with what to do (one query)."""
    failing = (
        slo_visible(user=user)
        .filter(data_status__in=(DataStatus.UNAVAILABLE, DataStatus.NO_DATA))
        .order_by("data_status_since", "name")[:limit]
    )
    groups: dict[tuple, SourceProblem] = {}
    for slo in failing:
        key = (slo.data_source_id, slo.data_status, slo.data_status_detail)
        if key in groups:
            groups[key].count += 1
            if len(groups[key].slos) < 5:
                groups[key].slos.append(slo.name)
            continue
        message = status_message(slo)
        if message is not None:
            groups[key] = SourceProblem(message, [slo.name], 1)
    order = {"bad": 0, "warn": 1}
    return sorted(groups.values(), key=lambda p: order.get(p.message.level, 2))
