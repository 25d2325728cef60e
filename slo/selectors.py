"""Reads of the SLO app for pages and API, scoped to what the caller may see.

Pages read stored evaluations only (snapshots, alert events): nothing is computed against
Prometheus while a page renders.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404

from slo.definitions import MEASURED
from slo.models import (
    SLO,
    AlertEvent,
    AlertState,
    BudgetAdjustment,
    FreezeOverride,
    Service,
    Snapshot,
)
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


def slo_can_create(*, user) -> bool:
    """Platform admins, and admins of any team (for that team's SLOs)."""
    if permissions.is_platform_admin(user):
        return True
    return any(permissions.is_team_admin(user, team) for team in permissions.team_ids(user))


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


def slo_alert_events(*, slo: SLO, limit: int | None = 100) -> QuerySet[AlertEvent]:
    """The SLO's alert events, newest first: the last `limit`, or all (for a paginated list)."""
    events = slo.alert_events.order_by("-at", "-id")
    return events[:limit] if limit is not None else events


def slo_snapshots(*, slo: SLO, since: datetime | None = None) -> QuerySet[Snapshot]:
    snapshots = slo.snapshots.order_by("-at")
    return snapshots.filter(at__gte=since) if since else snapshots


def _windows(adjustment: BudgetAdjustment, since: datetime, until: datetime) -> list:
    return [
        (start.timestamp(), end.timestamp())
        for start, end in adjustment.schedule().windows(since, until)
    ]


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
        spans = _windows(adjustment, since, until)
        if not spans:
            continue
        for slo_id, service_id in services.items():
            if adjustment.service_id != service_id:
                continue
            if adjustment.slo_id is None or adjustment.slo_id == definitions[slo_id]:
                found.setdefault(slo_id, []).extend(spans)
    return {slo_id: tuple(merged(spans)) for slo_id, spans in found.items()}


def slo_maintenance(*, slo: SLO, since: datetime, until: datetime) -> list[tuple]:
    """The SLO's maintenance windows overlapping [since, until], as (start, end) datetimes."""
    found = maintenance_windows(slos=[slo], since=since, until=until).get(slo.pk, ())
    return [(_moment(start), _moment(end)) for start, end in found]


def _moment(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def service_maintenance_windows(
    *, service_id: int, since: datetime, until: datetime
) -> tuple[tuple[float, float], ...]:
    """The windows that hold for every SLO of a service (for an SLO not saved yet)."""
    adjustments = BudgetAdjustment.objects.filter(service_id=service_id, slo__isnull=True)
    return tuple(merged(span for a in adjustments for span in _windows(a, since, until)))


# -- change freezes ----------------------------------------------------------------------------


@dataclass
class SLOStanding:
    """Where one SLO of a service stands for its change freeze."""

    name: str
    budget_left: float | None
    data_status: str
    firing: list[str]
    freezes: bool
    reason: str

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "budget_left": self.budget_left,
            "data_status": self.data_status,
            "firing": self.firing,
            "freezes": self.freezes,
            "reason": self.reason,
        }


@dataclass
class Freeze:
    """A service's change freeze: it is frozen while any of its SLOs has spent its error
    budget or is paging (tickets do not freeze), unless a platform admin lifted the freeze
    for a while. An SLO without data never freezes on its own: it is a warning."""

    service: str
    slos: list[SLOStanding] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    override: FreezeOverride | None = None

    @property
    def reasons(self) -> list[str]:
        return [standing.reason for standing in self.slos if standing.freezes]

    @property
    def held_by_slos(self) -> bool:
        """Whether the SLOs freeze the service (before any override)."""
        return bool(self.reasons)

    @property
    def frozen(self) -> bool:
        return self.held_by_slos and self.override is None

    def override_text(self) -> str:
        if self.override is None:
            return ""
        who = self.override.created_by.get_username()
        return (
            f"freeze lifted until {self.override.until:%Y-%m-%d %H:%M} UTC by {who}: "
            f"{self.override.reason}"
        )


def _standing(slo: SLO, firing: list[str]) -> tuple[SLOStanding, str]:
    """An SLO's standing, and a warning when it has no data to judge by."""
    label = slo.display_name if slo.is_group else slo.name
    budget = slo.latest_budget
    measured = slo.data_status in MEASURED
    if not measured:
        status = slo.get_data_status_display() if slo.data_status else "not evaluated yet"
        warning = (
            f"SLO {label} has no data ({status.lower()}): it cannot freeze {slo.service.name} on "
            "its own; check its source"
        )
        return SLOStanding(label, budget, slo.data_status, firing, False, ""), warning
    reasons = []
    if "page" in firing:
        reasons.append(f"SLO {label} is paging (error budget burning fast)")
    if budget is not None and budget <= 0:
        reasons.append(f"SLO {label} has spent its error budget ({budget:.1%} left)")
    return SLOStanding(
        label, budget, slo.data_status, firing, bool(reasons), "; ".join(reasons)
    ), ""


def service_freeze(*, service: Service, now: datetime) -> Freeze:
    """The change freeze of one service, from its SLOs' latest evaluations (their groups each
    count as an SLO) and any override still running."""
    rows = slo_with_latest(
        SLO.objects.filter(service=service).select_related("service", "team", "parent")
    )
    firing: dict[int, set[str]] = defaultdict(set)
    states = AlertState.objects.filter(slo__service=service, firing=True)
    for slo_id, severity in states.values_list("slo_id", "severity"):
        firing[slo_id].add(severity)
    freeze = Freeze(service.name)
    for slo in rows.order_by("name"):
        standing, warning = _standing(slo, sorted(firing[slo.pk]))
        freeze.slos.append(standing)
        if warning:
            freeze.warnings.append(warning)
    freeze.override = freeze_override_active(service=service, now=now)
    return freeze


def freeze_override_active(*, service: Service, now: datetime) -> FreezeOverride | None:
    """The override that keeps the service open now, if any (the latest)."""
    return (
        FreezeOverride.objects.filter(service=service, until__gt=now, ended_at=None)
        .select_related("created_by")
        .order_by("-created_at")
        .first()
    )


def service_for_gate(*, user, name: str) -> Service:
    """A service by name, if the caller may see its SLOs (its team, a team owning one of its
    SLOs, or a role that sees everything); 404 otherwise, as for a service that does not
    exist."""
    service = Service.objects.select_related("team").filter(name=name).first()
    if service is None:
        raise Http404(f"No service named {name!r} has SLOs in SSOps")
    if slo_can_view_all(user) or service.team_id in permissions.team_ids(user):
        return service
    if slo_visible(user=user).filter(service=service).exists():
        return service
    raise Http404(f"No service named {name!r} has SLOs in SSOps")


def overrides_active(*, now: datetime) -> QuerySet[FreezeOverride]:
    """Every override running now (the executive dashboard flags them)."""
    return (
        FreezeOverride.objects.filter(until__gt=now, ended_at=None)
        .select_related("service", "created_by")
        .order_by("until")
    )


def adjustments_visible(*, user) -> QuerySet[BudgetAdjustment]:
    """Planned maintenance of the services whose SLOs the caller may see."""
    adjustments = BudgetAdjustment.objects.select_related("service", "slo", "created_by")
    if not slo_can_view_all(user):
        teams = permissions.team_ids(user)
        adjustments = adjustments.filter(
            Q(service__team_id__in=teams) | Q(service__slos__team_id__in=teams)
        ).distinct()
    return adjustments.order_by("first_start", "name")
