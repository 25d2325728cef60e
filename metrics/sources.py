"""SSOps's own records as an SLO source (for the SLOs of SSOps itself).

A platform counter is a function that lists events — (unix time, labels) or (unix time, labels,
count) — in a time range; `register_counter` adds one under a metric name, and SLOs select it
like a Prometheus counter (`ssops_audit_events_total{action="auth.login"}`, data source of type
SSOps). A counter kept as pre-counted rows may also give `totals` (labels and counts in a range,
summed by the database), which answers increases without listing every event. Counts are exact:
the events in (at - window, at], no extrapolation. A series with no event in the whole range is
absent; one with events elsewhere counts 0 in a quiet window.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime

import numpy as np

from slo.sources.base import CounterGroup, SeriesKey, SourceUnavailable

Events = Callable[[datetime, datetime], Iterable[tuple]]
Totals = Callable[[float, float], Iterable[tuple[dict[str, str], float]]]
COUNTERS: dict[str, Events] = {}
TOTALS: dict[str, Totals] = {}


def register_counter(name: str, *, totals: Totals | None = None) -> Callable[[Events], Events]:
    def register(events: Events) -> Events:
        COUNTERS[name] = events
        if totals is not None:
            TOTALS[name] = totals
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


def _api_request_totals(start: float, end: float):
    from core.request_counts import totals

    return totals(start, end)


@register_counter("ssops_http_requests_total", totals=_api_request_totals)
def api_requests(start: datetime, end: datetime) -> Iterable[tuple[float, dict[str, str], int]]:
    """SSOps API requests by view, method and status, as the web processes counted them per
    minute (core.request_counts), each minute counted at its end."""
    from core.models import ApiRequestCount

    rows = ApiRequestCount.objects.filter(
        minute__gt=start.timestamp() - 3600, minute__lte=end.timestamp()
    ).values_list("minute", "span", "view", "method", "status", "count")
    for minute, span, view, method, status, count in rows.iterator():
        yield minute + span, {"view": view, "method": method, "status": status}, count


def _api_latency_totals(start: float, end: float):
    from core.request_counts import latency_totals

    return latency_totals(start, end)


@register_counter("ssops_http_request_duration_seconds_bucket", totals=_api_latency_totals)
def api_latency(start: datetime, end: datetime) -> Iterable[tuple[float, dict[str, str], int]]:
    """SSOps API requests as a cumulative histogram of their durations, by view and method,
    as the web processes counted them per minute: one entry per bucket `le` (0.1, 0.25, 0.5,
    1.0 and 2.5 seconds, and +Inf for every timed request), each minute counted at its end."""
    from core.models import ApiRequestCount
    from core.request_counts import LATENCY_BUCKETS

    rows = ApiRequestCount.objects.filter(
        minute__gt=start.timestamp() - 3600, minute__lte=end.timestamp(), timed__gt=0
    ).values_list("minute", "span", "view", "method", "timed", *LATENCY_BUCKETS.values())
    for minute, span, view, method, timed, *within in rows.iterator():
        labels = {"view": view, "method": method}
        for le, count in zip(LATENCY_BUCKETS, within, strict=True):
            yield minute + span, {**labels, "le": le}, count
        yield minute + span, {**labels, "le": "+Inf"}, timed


@register_counter("ssops_provisioning_runs_total")
def provisioning_runs(start: datetime, end: datetime) -> Iterable[tuple[float, dict[str, str]]]:
    """Provision runs that ended, labelled by how (`state`: succeeded, failed, rolled_back or
    cancelled), template and team, at the time they ended."""
    from provisioning.choices import RunKind
    from provisioning.models import ProvisioningRun
    from provisioning.models.runs import RUN_FINAL

    rows = ProvisioningRun.objects.filter(
        kind=RunKind.PROVISION,
        state__in=RUN_FINAL,
        finished_at__gt=start,
        finished_at__lte=end,
    ).values_list("finished_at", "state", "template", "request__team__slug")
    for finished, state, template, team in rows.iterator():
        yield finished.timestamp(), {"state": state, "template": template, "team": team or ""}


def _probe_totals(start: float, end: float):
    from django.db.models import Count

    from metrics.models import ProbeResult

    rows = (
        ProbeResult.objects.filter(
            at__gt=datetime.fromtimestamp(start - 60, UTC),
            at__lte=datetime.fromtimestamp(end - 60, UTC),
        )
        .values("ok")
        .annotate(n=Count("id"))
        .order_by()
    )
    return [({"ok": "true" if row["ok"] else "false"}, row["n"]) for row in rows]


@register_counter("ssops_catalog_probes_total", totals=_probe_totals)
def catalog_probes(start: datetime, end: datetime) -> Iterable[tuple[float, dict[str, str]]]:
    """The synthetic catalog probe, one event a minute, labelled ok="true" or "false" (counted
    at the end of the minute it probed)."""
    from datetime import timedelta

    from metrics.models import ProbeResult

    minute = timedelta(minutes=1)
    rows = ProbeResult.objects.filter(at__gt=start - minute, at__lte=end - minute)
    for at, ok in rows.values_list("at", "ok").iterator():
        yield at.timestamp() + 60, {"ok": "true" if ok else "false"}


PROVISIONING_BUCKETS = (30, 60, 120, 300, 600, 1800, 3600)


@register_counter("ssops_provisioning_seconds_bucket")
def provisioning_buckets(start: datetime, end: datetime) -> Iterable[tuple[float, dict[str, str]]]:
    """Requests that became ready, as a cumulative histogram of M2's provisioning latency (from
    request to ready, less the wait for an approver): one event per bucket `le` the latency
    fits in (le="+Inf" counts them all), labelled with template and team, at the ready time."""
    from metrics.records import provisions
    from teams.models import Team

    found = provisions(start, end)
    teams = dict(Team.objects.filter(pk__in={p.team_id for p in found}).values_list("id", "slug"))
    for provision in found:
        labels = {"template": provision.template, "team": teams.get(provision.team_id, "")}
        at = provision.ready_at.timestamp()
        for bound in PROVISIONING_BUCKETS:
            if provision.latency <= bound:
                yield at, {**labels, "le": str(bound)}
        yield at, {**labels, "le": "+Inf"}


class PlatformRecordsSource:
    def _known(self, metric: str) -> Events:
        events = COUNTERS.get(metric)
        if events is None:
            raise SourceUnavailable(
                f"SSOps keeps no records named {metric}; known: {', '.join(sorted(COUNTERS))}"
            )
        return events

    def _events(
        self, group: CounterGroup, start: float, end: float
    ) -> tuple[np.ndarray, np.ndarray, list[SeriesKey]]:
        events = self._known(group.metric)
        times, weights, keys = [], [], []
        for ts, labels, *count in events(
            datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC)
        ):
            if all(m.matches(labels.get(m.name, "")) for m in group.pushed):
                times.append(ts)
                weights.append(count[0] if count else 1)
                keys.append(group.key_of(labels))
        return np.array(times, dtype=np.float64), np.array(weights, dtype=np.float64), keys

    def _totals(
        self, group: CounterGroup, windows: Sequence[float], end: float
    ) -> dict[float, dict[SeriesKey, float]]:
        result: dict[float, dict[SeriesKey, float]] = {}
        for window in windows:
            counts: dict[SeriesKey, float] = defaultdict(float)
            for labels, count in TOTALS[group.metric](end - window, end):
                if all(m.matches(labels.get(m.name, "")) for m in group.pushed):
                    counts[group.key_of(labels)] += count
            result[window] = counts
        seen = {key for counts in result.values() for key in counts}
        return {w: {key: counts.get(key, 0.0) for key in seen} for w, counts in result.items()}

    def increases(
        self, group: CounterGroup, windows: Sequence[float], at: datetime
    ) -> dict[float, dict[SeriesKey, float]]:
        end = at.timestamp()
        self._known(group.metric)
        if group.metric in TOTALS:
            return self._totals(group, windows, end)
        times, weights, keys = self._events(group, end - max(windows, default=0), end)
        result = {}
        for window in windows:
            counts: dict[SeriesKey, float] = dict.fromkeys(keys, 0.0)
            for ts, weight, key in zip(times, weights, keys, strict=True):
                if ts > end - window:
                    counts[key] += weight
            result[window] = counts
        return result

    def slice_increases(
        self, group: CounterGroup, slice_seconds: int, ends: np.ndarray
    ) -> dict[SeriesKey, np.ndarray]:
        first, last = float(ends[0]), float(ends[-1])
        times, weights, keys = self._events(group, first - slice_seconds, last)
        # An event at t belongs to the slice (end - step, end]: index ceil((t - first) / step).
        slots = np.ceil((times - first) / slice_seconds).astype(np.int64)
        result: dict[SeriesKey, np.ndarray] = defaultdict(lambda: np.zeros(len(ends)))
        for slot, weight, key in zip(slots, weights, keys, strict=True):
            result[key][slot] += weight
        return dict(result)

    def increases_between(
        self, group: CounterGroup, starts: np.ndarray, ends: np.ndarray
    ) -> dict[SeriesKey, np.ndarray]:
        """The events in each (start, end], counted exactly as `increases` counts a window: a
        series with events anywhere in the listed time counts 0 where it has none."""
        starts = np.asarray(starts, dtype=np.float64)
        ends = np.asarray(ends, dtype=np.float64)
        if not len(starts):
            return {}
        times, weights, keys = self._events(group, float(starts.min()), float(ends.max()))
        by_key: dict[SeriesKey, list[int]] = defaultdict(list)
        for row, key in enumerate(keys):
            by_key[key].append(row)
        result = {}
        for key, rows in by_key.items():
            order = np.argsort(times[rows], kind="stable")
            moments = times[rows][order]
            running = np.concatenate(([0.0], np.cumsum(weights[rows][order])))
            before_end = np.searchsorted(moments, ends, side="right")
            before_start = np.searchsorted(moments, starts, side="right")
            result[key] = running[before_end] - running[before_start]
        return result

    def range_values(self, query: str, ends: np.ndarray, step: int) -> list:
        raise SourceUnavailable(
            "SSOps's own records answer counter selectors only; expressions (the promql path) "
            "are evaluated by Prometheus"
        )

    def slice_values(self, query: str, ends: np.ndarray) -> np.ndarray:
        raise SourceUnavailable("threshold metrics are read from Prometheus, not SSOps records")

    def instant_values(self, queries: Sequence[str], at: datetime) -> dict:
        raise SourceUnavailable(
            "SSOps's own records answer counter selectors only; expressions (the promql path) "
            "are evaluated by Prometheus"
        )
