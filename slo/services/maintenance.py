"""Planned maintenance: budget adjustments (created ahead of time by the team's admins; once a
window has begun, only by a platform admin with a reason), and the Alertmanager silences SSOps
creates ahead of each window so that rules evaluated by Prometheus stay quiet too."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import requests
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import audit_record
from slo.models import SLO, BudgetAdjustment, MaintenanceSilence, Service
from teams import permissions

# Silences are made this long before a window starts (the beat job runs every few minutes).
SILENCE_AHEAD = timedelta(hours=24)
MIN_REASON = 10

logger = logging.getLogger(__name__)


def adjustment_can_create(*, user, service: Service, starts: datetime, now: datetime) -> bool:
    """Ahead of time: the service's team admins (and platform admins); afterwards: platform
    admins only."""
    if permissions.is_platform_admin(user):
        return True
    return starts > now and permissions.is_team_admin(user, service.team_id)


def _check_late(*, actor, starts: datetime, now: datetime, reason: str, what: str) -> None:
    if starts > now:
        return
    if not permissions.is_platform_admin(actor):
        raise PermissionDenied(
            f"{what} a maintenance window that has already begun changes past figures: only a "
            "platform admin may, with a reason"
        )
    if len((reason or "").strip()) < MIN_REASON:
        raise ValidationError(
            {"reason": f"the window has begun: say why, in at least {MIN_REASON} characters"}
        )


def adjustment_create(
    *,
    actor,
    service: Service,
    name: str,
    first_start: datetime,
    duration: timedelta,
    slo: SLO | None = None,
    rrule: str = "",
    description: str = "",
    reason: str = "",
    now: datetime | None = None,
) -> BudgetAdjustment:
    """Plan a one-off or recurring maintenance window for one SLO or a whole service."""
    now = now or timezone.now()
    if not adjustment_can_create(user=actor, service=service, starts=first_start, now=now):
        raise PermissionDenied(
            f"only admins of team {service.team.slug} (or platform admins) plan maintenance of "
            f"{service.name}"
        )
    _check_late(actor=actor, starts=first_start, now=now, reason=reason, what="Adding")
    adjustment = BudgetAdjustment(
        name=name,
        service=service,
        slo=slo,
        first_start=first_start,
        duration_seconds=int(duration.total_seconds()),
        rrule=rrule.strip(),
        description=description,
        reason=reason.strip(),
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    with transaction.atomic():
        adjustment.full_clean()
        adjustment.save()
        audit_record(
            action="slo.adjustment.created",
            actor=actor,
            obj=adjustment,
            team=service.team_id,
            payload=_described(adjustment),
        )
        transaction.on_commit(sync_silences_soon)
    return adjustment


def adjustment_delete(
    *, actor, adjustment: BudgetAdjustment, reason: str = "", now: datetime | None = None
) -> None:
    """Remove a planned window (and its silences still to come)."""
    now = now or timezone.now()
    service = adjustment.service
    if not (
        permissions.is_platform_admin(actor) or permissions.is_team_admin(actor, service.team_id)
    ):
        raise PermissionDenied(f"only admins of team {service.team.slug} remove its maintenance")
    _check_late(actor=actor, starts=adjustment.first_start, now=now, reason=reason, what="Removing")
    silences = list(
        adjustment.silences.filter(ends_at__gt=now).values_list("silence_id", flat=True)
    )
    with transaction.atomic():
        audit_record(
            action="slo.adjustment.deleted",
            actor=actor,
            obj=adjustment,
            team=service.team_id,
            payload={**_described(adjustment), "reason": reason.strip()},
        )
        adjustment.delete()
        transaction.on_commit(lambda: [_expire_silence(s) for s in silences])


def _described(adjustment: BudgetAdjustment) -> dict:
    return {
        "name": adjustment.name,
        "service": adjustment.service.name,
        "slo": adjustment.slo.name if adjustment.slo_id else None,
        "first_start": adjustment.first_start,
        "duration_seconds": adjustment.duration_seconds,
        "rrule": adjustment.rrule,
        "reason": adjustment.reason,
    }


def sync_silences_soon() -> None:
    """Make the silences of new windows now, not at the next beat run."""
    from slo.tasks import sync_silences

    sync_silences.apply_async(expires=240)


# -- Alertmanager silences ---------------------------------------------------------------------


class SilenceFailed(Exception):
    pass


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def silence_payload(adjustment: BudgetAdjustment, starts: datetime, ends: datetime) -> dict:
    """Alertmanager's POST /api/v2/silences body for one window: the SLO's alerts (matched by
    the `slo` label every SSOps and slo_rules alert carries), or every SLO of the service's."""
    if adjustment.slo_id:
        matcher = {"name": "slo", "value": adjustment.slo.name, "isRegex": False, "isEqual": True}
    else:
        matcher = {
            "name": "service",
            "value": adjustment.service.name,
            "isRegex": False,
            "isEqual": True,
        }
    return {
        "matchers": [matcher],
        "startsAt": _iso(starts),
        "endsAt": _iso(ends),
        "createdBy": "ssops",
        "comment": f"SSOps planned maintenance {adjustment.name} of {adjustment.scope}"
        + (f": {adjustment.description}" if adjustment.description else ""),
    }


def _alertmanager() -> str:
    url = settings.ALERTMANAGER_URL
    if not url:
        raise SilenceFailed("ALERTMANAGER_URL is not set")
    return url.rstrip("/")


def _post_silence(payload: dict) -> str:
    try:
        response = requests.post(
            f"{_alertmanager()}/api/v2/silences", json=payload, timeout=settings.PROMETHEUS_TIMEOUT
        )
    except requests.RequestException as exc:
        raise SilenceFailed(f"Alertmanager is unreachable: {exc}") from None
    if response.status_code != 200:
        raise SilenceFailed(f"Alertmanager answered {response.status_code}: {response.text[:300]}")
    return response.json()["silenceID"]


def _expire_silence(silence_id: str) -> None:
    try:
        requests.delete(
            f"{_alertmanager()}/api/v2/silence/{silence_id}", timeout=settings.PROMETHEUS_TIMEOUT
        )
    except (requests.RequestException, SilenceFailed) as exc:
        logger.warning("could not expire silence %s: %s", silence_id, exc)


@dataclass
class SilenceReport:
    created: int = 0
    failed: int = 0


def silences_sync(
    *, now: datetime | None = None, ahead: timedelta = SILENCE_AHEAD
) -> SilenceReport:
    """Make the Alertmanager silence of every maintenance window that is on or starts within
    `ahead`, once each (idempotent: a window's silence is recorded; a failed post is tried
    again at the next run)."""
    now = now or timezone.now()
    report = SilenceReport()
    adjustments = BudgetAdjustment.objects.select_related("service", "slo")
    for adjustment in adjustments:
        for starts, ends in adjustment.schedule().windows(now, now + ahead):
            if adjustment.silences.filter(starts_at=starts).exists():
                continue
            try:
                silence_id = _post_silence(silence_payload(adjustment, max(starts, now), ends))
            except SilenceFailed as exc:
                report.failed += 1
                logger.warning(
                    "silence for maintenance %s at %s not made (tried again later): %s",
                    adjustment.name,
                    _iso(starts),
                    exc,
                )
                continue
            try:
                with transaction.atomic():
                    MaintenanceSilence.objects.create(
                        adjustment=adjustment, starts_at=starts, ends_at=ends, silence_id=silence_id
                    )
                    audit_record(
                        action="slo.adjustment.silenced",
                        obj=adjustment,
                        team=adjustment.service.team_id,
                        payload={"silence": silence_id, "starts": starts, "ends": ends},
                    )
            except IntegrityError:  # another run made it meanwhile: keep one silence
                _expire_silence(silence_id)
                continue
            report.created += 1
    return report
