"""Reads of the guardrail signals: unexpected actors in the audit trail (F3) and resources that
drifted from what was provisioned (F4) — each one bounded query over stored findings."""

from __future__ import annotations

from datetime import datetime, timedelta

from metrics.models import UnexpectedActor
from metrics.selectors import unexpected_actors_visible
from provisioning.models import DriftFinding
from provisioning.selectors import drift_findings_visible

RECENT = timedelta(days=7)
SHOWN = 50


def recent_unexpected_actors(*, user, now: datetime) -> list[UnexpectedActor]:
    return list(unexpected_actors_visible(user=user).filter(occurred_at__gte=now - RECENT)[:SHOWN])


def open_drift(*, user) -> list[DriftFinding]:
    return list(drift_findings_visible(user=user)[:SHOWN])


def open_drift_count(*, user) -> int:
    return drift_findings_visible(user=user).count()
