"""Reads of the SLO app for pages and API, scoped to what the caller may see.

Pages read stored evaluations only (snapshots, alert events): nothing is computed against
Prometheus while a page renders.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404

from slo.models import SLO, AlertEvent, AlertState, BudgetAdjustment, Snapshot
from slo.windows import merged
from teams import permissions

# Longer windows are charted from one snapshot an hour (the ones the pruning keeps).
MINUTE_DETAIL = timedelta(days=2)


def slo_can_view_all(user) -> bool:
    """Platform admins, executives and on-call see every SLO; others their teams' SLOs."""
    return permissions.sees_everything(user) or permissions.is_oncall(user)


def slo_can_edit(*, user, team_id: int | None) -> bool:
    """Platform admins, and admins of the owner team."""
    return permissions.is_platform_admin(user) or permissions.is_team_admin(user, team_id)


def slo_visible(*, user) -> QuerySet[SLO]:
    slos = SLO.objects.select_related("service", "team", "data_source", "indicator")
    if slo_can_view_all(user):
        return slos
    return slos.filter(team_id__in=permissions.team_ids(user))


def slo_with_latest(slos: QuerySet[SLO]) -> QuerySet[SLO]:
    """Each SLO with the figures of its latest snapshot and whether its alerts fire."""
    latest = Snapshot.objects.filter(slo=OuterRef("pk")).order_by("-at")
    firing = AlertState.objects.filter(slo=OuterRef("pk"), firing=True).order_by("severity")
    return slos.annotate(
        latest_at=Subquery(latest.values("at")[:1]),
        latest_sli=Subquery(latest.values("sli")[:1]),
        latest_budget=Subquery(latest.values("error_budget_remaining")[:1]),
        latest_burn_rates=Subquery(latest.values("burn_rates")[:1]),
        latest_exhaustion=Subquery(latest.values("time_to_exhaustion")[:1]),
        firing_severity=Subquery(firing.values("severity")[:1]),
    )


def slo_listing_order(slos: QuerySet[SLO]) -> QuerySet[SLO]:
    """By name, the groups of a grouped SLO right under their definition."""
    return slos.order_by(
        Coalesce("parent__name", "name"), F("parent_id").asc(nulls_first=True), "display_name"
    )


def slo_groups(*, slo: SLO, user) -> list[SLO]:
    """The groups of a grouped SLO with their latest figures, worst budget first."""
    groups = slo_with_latest(slo_visible(user=user).filter(parent=slo))
    return sorted(
        groups.order_by("display_name"),
        key=lambda g: (g.latest_budget is None, g.latest_budget if g.latest_budget else 0.0),
    )


def slo_get_visible(*, user, key: str) -> SLO:
    """An SLO by UUID or by name (its slug); 404 when missing or not the caller's to see."""
    slos = slo_visible(user=user)
    try:
        found = slos.filter(uuid=uuid.UUID(str(key))).first()
    except ValueError:
        found = None
    found = found or slos.filter(name=key).first()
    if found is None:
        raise Http404("No such SLO")
    return found


def slo_history(*, slo: SLO, until: datetime | None = None) -> list[tuple]:
    """(at, sli, budget remaining, data status) over the SLO's window, oldest first."""
    snapshots = slo.snapshots.order_by("at")
    last = until or snapshots.values_list("at", flat=True).last()
    if last is None:
        return []
    begin = slo.window().start(last)
    snapshots = snapshots.filter(at__gt=begin, at__lte=last)
    if last - begin > MINUTE_DETAIL:  # one an hour, and the newest, whatever its minute
        snapshots = snapshots.filter(Q(at__minute=0) | Q(at=last))
    return list(snapshots.values_list("at", "sli", "error_budget_remaining", "data_status"))


def slo_alert_events(*, slo: SLO, limit: int = 100) -> QuerySet[AlertEvent]:
    return slo.alert_events.order_by("-at", "-id")[:limit]


def slo_snapshots(*, slo: SLO, since: datetime | None = None) -> QuerySet[Snapshot]:
    snapshots = slo.snapshots.order_by("-at")
    return snapshots.filter(at__gte=since) if since else snapshots


def maintenance_windows(
    *, slos: Sequence[SLO], since: datetime, until: datetime
) -> dict[int, tuple[tuple[float, float], ...]]:
    """Per SLO id, its maintenance windows overlapping [since, until] (its own adjustments and
    its service's), merged, in unix seconds. A group row takes its definition's."""
    definitions = {slo.pk: slo.parent_id or slo.pk for slo in slos}
    services = {slo.pk: slo.service_id for slo in slos}
    adjustments = BudgetAdjustment.objects.filter(service_id__in=set(services.values())).filter(
        Q(slo_id__isnull=True) | Q(slo_id__in=set(definitions.values()))
    )
    found: dict[int, list[tuple[float, float]]] = {}
    for adjustment in adjustments:
        spans = [
            (start.timestamp(), end.timestamp())
            for start, end in adjustment.schedule().windows(since, until)
        ]
        if not spans:
            continue
        for slo_id, service_id in services.items():
            if adjustment.service_id != service_id:
                continue
            if adjustment.slo_id is None or adjustment.slo_id == definitions[slo_id]:
                found.setdefault(slo_id, []).extend(spans)
    return {slo_id: tuple(merged(spans)) for slo_id, spans in found.items()}
