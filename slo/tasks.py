"""Beat jobs of the SLO engine: thin, idempotent entry points (schedule in ssops_site/celery.py)."""

from __future__ import annotations

from datetime import datetime

from celery import shared_task
from django.utils import timezone

from slo.services import alert_deliveries_send, slo_evaluation_record, slo_history_prune


def _minute(at: str | None) -> datetime:
    moment = datetime.fromisoformat(at) if at else timezone.now()
    return moment.replace(second=0, microsecond=0)


@shared_task(name="slo.tasks.evaluate", ignore_result=True)
def evaluate(at: str | None = None) -> int:
    """Evaluate every SLO at the start of the minute (`at`, ISO 8601, defaults to now).

    Running it twice for one minute records one snapshot per SLO and no extra transition."""
    return len(slo_evaluation_record(at=_minute(at)))


@shared_task(name="slo.tasks.deliver_alerts", ignore_result=True)
def deliver_alerts() -> int:
    """Post what waits in the alert outbox to Alertmanager (retries failed posts)."""
    return alert_deliveries_send().delivered


@shared_task(name="slo.tasks.prune_history", ignore_result=True)
def prune_history() -> int:
    return slo_history_prune(now=timezone.now())
