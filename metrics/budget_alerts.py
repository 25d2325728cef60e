"""Cost burn-rate alerts of team budgets, sent to Alertmanager (like the SLO alerts, but without
an outbox: a firing alert is re-sent at every evaluation, so a post that fails is made good by
the next one; a resolution that fails to arrive lapses after Alertmanager's resolve_timeout)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from django.conf import settings

from metrics.models import BudgetAlert
from slo.services.alerts import DeliveryFailed, alertmanager_post

logger = logging.getLogger(__name__)

ALERT_NAME = "TeamBudgetBurn"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def budget_alert_payload(*, alert: BudgetAlert, now: datetime) -> dict:
    page = f"{settings.SSOPS_BASE_URL}/platform-metrics/budgets/"
    burn = f"{alert.burn_rate:.2f}x" if alert.burn_rate is not None else "n/a"
    payload = {
        "labels": {
            "alertname": ALERT_NAME,
            "team": alert.team.slug,
            "month": f"{alert.month:%Y-%m}",
            "severity": "ticket",
        },
        "annotations": {
            "summary": f"Team {alert.team.slug} spends faster than twice its budget's pace",
            "description": (
                f"{alert.spend:.2f} {alert.currency} spent in {alert.month:%Y-%m} against "
                f"{alert.budgeted_so_far:.2f} budgeted so far (monthly limit "
                f"{alert.monthly_limit:.2f}): burn rate {burn}."
            ),
            "dashboard_url": page,
        },
        "startsAt": _iso(alert.since or now),
        "generatorURL": page,
    }
    if not alert.firing:
        payload["endsAt"] = _iso(alert.resolved_at or now)
    return payload


def budget_alert_send(*, alert: BudgetAlert, now: datetime) -> bool:
    """Post the alert to ALERTMANAGER_URL (when set); False when it did not arrive."""
    url = settings.ALERTMANAGER_URL
    if not url:
        return False
    try:
        alertmanager_post(url, budget_alert_payload(alert=alert, now=now))
    except DeliveryFailed as exc:
        logger.warning("budget alert for %s not delivered: %s", alert.team.slug, exc)
        return False
    return True
