"""Lifting a service's change freeze for a while (platform admins, with a reason, audited)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from slo.models import FreezeOverride, Service
from teams import permissions

MAX_OVERRIDE_HOURS = 72
MIN_REASON = 10


def freeze_override_create(
    *, actor, service: Service, hours: int, reason: str, now: datetime | None = None
) -> FreezeOverride:
    """Open the service's deploy gate and the catalog's freeze policy for `hours`, whatever its
    SLOs say; flagged on its SLO pages and the executive dashboard until it ends."""
    if not permissions.is_platform_admin(actor):
        raise PermissionDenied("Only platform admins lift a change freeze.")
    errors = {}
    if len((reason or "").strip()) < MIN_REASON:
        errors["reason"] = [f"Say why, in at least {MIN_REASON} characters."]
    if (
        not isinstance(hours, int)
        or isinstance(hours, bool)
        or not 1 <= hours <= MAX_OVERRIDE_HOURS
    ):
        errors["hours"] = [f"Use 1 to {MAX_OVERRIDE_HOURS} hours."]
    if errors:
        raise ValidationError(errors)
    now = now or timezone.now()
    with transaction.atomic():
        override = FreezeOverride.objects.create(
            service=service,
            until=now + timedelta(hours=hours),
            reason=reason.strip(),
            created_by=actor,
        )
        audit_record(
            action="slo.freeze.overridden",
            actor=actor,
            obj=service,
            team=service.team_id,
            payload={"service": service.name, "until": override.until, "reason": override.reason},
        )
    return override


def freeze_override_end(*, actor, service: Service, now: datetime | None = None) -> int:
    """End the service's running overrides early; returns how many ended."""
    if not permissions.is_platform_admin(actor):
        raise PermissionDenied("Only platform admins lift or restore a change freeze.")
    now = now or timezone.now()
    with transaction.atomic():
        running = FreezeOverride.objects.select_for_update().filter(
            service=service, until__gt=now, ended_at=None
        )
        ended = running.update(ended_at=now)
        if ended:
            audit_record(
                action="slo.freeze.override_ended",
                actor=actor,
                obj=service,
                team=service.team_id,
                payload={"service": service.name, "at": now},
            )
    return ended
