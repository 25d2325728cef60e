"""SSOps's own records as an SLO source (for the SLOs of SSOps itself).

A platform counter is a function that lists events — (unix time, labels) — in a time range;
`register_counter` adds one under a metric name, and SLOs select it like a Prometheus counter
(`ssops_audit_events_total{action="auth.login"}`, data source of type SSOps). Counts are exact:
the events in (at - window, at], no extrapolation. A series with no event in the whole range is
absent; one with events elsewhere counts 0 in a quiet window.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime

import numpy as np

from slo.sources.base import CounterGroup, SeriesKey, SourceUnavailable

Events = Callable[[datetime, datetime], Iterable[tuple[float, dict[str, str]]]]
COUNTERS: dict[str, Events] = {}


def register_counter(name: str) -> Callable[[Events], Events]:
    def register(events: Events) -> Events:
        COUNTERS[name] = events
        return events

    return register


@register_counter("ssops_audit_events_total")
def audit_events(start: datetime, end: datetime) -> Iterable[tuple[float, dict[str, str]]]:
    """Every audit event, labelled by action, object_type and team_id."""
    from audit.models import AuditEvent
    from audit.selectors import ts_text

    rows = AuditEvent.objects.filter(ts__gt=ts_text(start), ts__lte=ts_text(end)).values_list(
        "ts", "action", "object_type", "team_id"
    )
    for ts, action, object_type, team_id in rows.iterator():
        moment = datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        labels = {"action": action, "object_type": object_type, "team_id": str(team_id or "")}
        yield moment.timestamp(), labels


class PlatformRecordsSource:
    def _events(
        self, group: CounterGroup, start: float, end: float
    ) -> tuple[np.ndarray, list[SeriesKey]]:
        events = COUNTERS.get(group.metric)
        if events is None:
            raise SourceUnavailable(
                f"SSOps keeps no records named {group.metric}; known: {', '.join(sorted(COUNTERS))}"
            )
        times, keys = [], []
        for ts, labels in events(
            datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC)
        ):
            if all(m.matches(labels.get(m.name, "")) for m in group.pushed):
                times.append(ts)
                keys.append(group.key_of(labels))
        return np.array(times, dtype=np.float64), keys

    def increases(
        self, group: CounterGroup, windows: Sequence[float], at: datetime
    ) -> dict[float, dict[SeriesKey, float]]:
        end = at.timestamp()
        times, keys = self._events(group, end - max(windows, default=0), end)
        result = {}
        for window in windows:
            counts: dict[SeriesKey, float] = dict.fromkeys(keys, 0.0)
            for ts, key in zip(times, keys, strict=True):
                if ts > end - window:
                    counts[key] += 1
            result[window] = counts
        return result

    def slice_increases(
        self, group: CounterGroup, slice_seconds: int, ends: np.ndarray
    ) -> dict[SeriesKey, np.ndarray]:
        first, last = float(ends[0]), float(ends[-1])
        times, keys = self._events(group, first - slice_seconds, last)
        # An event at t belongs to the slice (end - step, end]: index ceil((t - first) / step).
        slots = np.ceil((times - first) / slice_seconds).astype(np.int64)
        result: dict[SeriesKey, np.ndarray] = defaultdict(lambda: np.zeros(len(ends)))
        for slot, key in zip(slots, keys, strict=True):
            result[key][slot] += 1
        return dict(result)

    def slice_values(self, query: str, ends: np.ndarray) -> np.ndarray:
        raise SourceUnavailable("threshold metrics are read from Prometheus, not SSOps records")
