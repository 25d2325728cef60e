"""Reads of the audit store, scoped to what the caller may see."""

from __future__ import annotations

from datetime import UTC, datetime

from django.db.models import QuerySet

from audit.models import AuditEvent
from teams import permissions


def ts_text(moment: datetime) -> str:
    """The fixed-width UTC text form the chain stores, so text ranges compare as times."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def object_types(model) -> tuple[str, ...]:
    """The object types under which the audit store holds events of `model`: its label, and for
    a model that moved between apps (it kept its table, named after its first app) the label it
    had before the move, which its older events carry."""
    meta = model._meta
    first_app = meta.db_table.split("_", 1)[0]
    earlier = f"{first_app}.{meta.model_name}"
    return (meta.label_lower,) if earlier == meta.label_lower else (meta.label_lower, earlier)


def audit_event_visible(*, user) -> QuerySet[AuditEvent]:
    """Platform admins and executives see every event; others their teams' events and their own."""
    events = AuditEvent.objects.all()
    if permissions.sees_everything(user):
        return events
    return permissions.of_teams_or_own(events, user, own="actor")
