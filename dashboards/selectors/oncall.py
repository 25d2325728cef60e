"""Reads of the on-call dashboard: what is burning, the API's health and the latest policy
denies — each one bounded query on an index (the queue and failed runs: `runs`)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone

from catalog.choices import DecisionOutcome
from catalog.models import PolicyDecision
from core.models import ApiRequestCount, TraceSpan
from core.request_counts import API_PREFIX
from dashboards.selectors.common import Scope
from metrics.models import Incident
from metrics.stats import percentile
from slo.models import AlertState, Snapshot
from slo.selectors import slo_visible

API_WINDOW = timedelta(hours=3)
BUCKET_SECONDS = 300
MAX_SPANS = 20_000  # the latency chart reads at most this many spans


def firing_alerts(*, user) -> QuerySet[AlertState]:
    """Firing page and ticket alerts of the SLOs the caller may see, pages first, each with the
    figures of its SLO's latest snapshot (one query)."""
    latest = Snapshot.objects.filter(slo=OuterRef("slo_id")).order_by("-at")
    return (
        AlertState.objects.filter(firing=True, slo__in=slo_visible(user=user))
        .select_related("slo__team", "slo__service")
        .annotate(
            latest_at=Subquery(latest.values("at")[:1]),
            latest_budget=Subquery(latest.values("error_budget_remaining")[:1]),
            latest_burn_rates=Subquery(latest.values("burn_rates")[:1]),
            latest_exhaustion=Subquery(latest.values("time_to_exhaustion")[:1]),
        )
        .order_by("severity", "since")
    )


@dataclass
class ApiHealth:
    buckets: list[datetime]
    requests: list[int]
    error_rate: list[float | None]
    p50_ms: list[float | None]
    p95_ms: list[float | None]
    spans: int  # server spans read for the latency

    @property
    def has_counts(self) -> bool:
        return any(self.requests)

    def last(self, series: str) -> float | None:
        values = [v for v in getattr(self, series) if v is not None]
        return values[-1] if values else None


def api_health(*, now: datetime | None = None) -> ApiHealth:
    """SSOps API requests, error rate (5xx share) and latency per 5 minutes over the last three
    hours: counts from SSOps's own per-minute records, latency from the stored server spans of
    API views (kept when OTEL_TRACES_EXPORTER=db)."""
    now = now or timezone.now()
    end = int(now.timestamp()) // BUCKET_SECONDS * BUCKET_SECONDS + BUCKET_SECONDS
    start = end - int(API_WINDOW.total_seconds())
    count = len(range(start, end, BUCKET_SECONDS))
    requests, errors = [0] * count, [0] * count
    rows = (
        ApiRequestCount.objects.filter(minute__gte=start, minute__lt=end, span=60)
        .filter(view__startswith=API_PREFIX)
        .values("minute")
        .annotate(total=Sum("count"), failed=Sum("count", filter=Q(status__startswith="5")))
        .order_by()
    )
    for row in rows:
        position = (row["minute"] - start) // BUCKET_SECONDS
        requests[position] += row["total"]
        errors[position] += row["failed"] or 0
    durations: dict[int, list[float]] = defaultdict(list)
    begin = datetime.fromtimestamp(start, tz=now.tzinfo)
    spans = TraceSpan.objects.filter(kind="SERVER", start__gte=begin, name__contains=" api/")
    read = 0
    for started, duration in spans.values_list("start", "duration_ms")[:MAX_SPANS]:
        read += 1
        durations[(int(started.timestamp()) - start) // BUCKET_SECONDS].append(duration)
    positions = range(count)
    return ApiHealth(
        buckets=[
            datetime.fromtimestamp(start + i * BUCKET_SECONDS, tz=now.tzinfo) for i in positions
        ],
        requests=requests,
        error_rate=[errors[i] / requests[i] if requests[i] else None for i in positions],
        p50_ms=[percentile(durations[i], 0.5) if durations[i] else None for i in positions],
        p95_ms=[percentile(durations[i], 0.95) if durations[i] else None for i in positions],
        spans=read,
    )


def recent_denies(*, scope: Scope, limit: int = 15) -> list[PolicyDecision]:
    """The latest deny decisions (on the outcome-and-time index)."""
    denies = PolicyDecision.objects.filter(outcome=DecisionOutcome.DENY)
    if not scope.everything:
        denies = denies.filter(request__team_id__in=scope.team_ids)
    return list(
        denies.select_related("policy_version__policy", "request__team").order_by("-created_at")[
            :limit
        ]
    )


def open_incidents(*, scope: Scope, limit: int = 50) -> list[Incident]:
    """Incidents not resolved, most severe first, then oldest first: with their owner, team,
    linked SLOs and requests (three queries)."""
    incidents = scope.teams(Incident.objects.filter(resolved_at=None))
    return list(
        incidents.select_related("team", "owner")
        .prefetch_related("slos", "requests")
        .order_by("severity", "started_at")[:limit]
    )
