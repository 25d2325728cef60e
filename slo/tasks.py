"""Beat jobs of the SLO engine: thin, idempotent entry points (schedule in ssops_site/celery.py)."""

from __future__ import annotations

from datetime import datetime

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from core.jobs import beat_job, job_record
from slo.services import (
    alert_deliveries_send,
    platform_alerts_refresh,
    silences_sync,
    slo_batches,
    slo_evaluation_record,
    slo_history_prune,
)


def _minute(at: str | None) -> datetime:
    moment = datetime.fromisoformat(at) if at else timezone.now()
    return moment.replace(second=0, microsecond=0)


@shared_task(name="slo.tasks.evaluate", ignore_result=True)
@beat_job(lock_seconds=120)
def evaluate(at: str | None = None) -> int:
    """Evaluate every SLO at the start of the minute (`at`, ISO 8601, defaults to now).

    With SSOPS_SLO_BATCH_SIZE set, the SLOs are split into batches, one task each, so that
    several workers share the work; otherwise this task evaluates them all. Running it twice for
    one minute records one snapshot per SLO and no extra transition."""
    minute = _minute(at)
    size = settings.SLO_BATCH_SIZE
    if not size:
        return len(slo_evaluation_record(at=minute))
    batches = slo_batches(size=size)
    for ids in batches:
        evaluate_batch.apply_async((ids, minute.isoformat()), expires=55)
    return len(batches)


@shared_task(
    name="slo.tasks.evaluate_batch",
    ignore_result=True,
    acks_late=True,
    reject_on_worker_lost=True,
)
def evaluate_batch(slo_ids: list[int], at: str) -> int:
    """Evaluate one batch of SLOs for one minute (idempotent: SLOs already done are skipped);
    each run is recorded, with the worker that ran it, among the job runs."""
    return len(
        job_record(
            "slo.tasks.evaluate_batch",
            lambda: slo_evaluation_record(at=datetime.fromisoformat(at), slo_ids=slo_ids),
            result=lambda evaluations: {"at": at, "slos": [e.name for e in evaluations]},
        )
    )


@shared_task(name="slo.tasks.deliver_alerts", ignore_result=True)
@beat_job(lock_seconds=120)
def deliver_alerts() -> int:
    """Post what waits in the alert outbox to Alertmanager (retries failed posts), then post
    SSOps's own firing alerts again so that Alertmanager keeps them active."""
    delivered = alert_deliveries_send().delivered
    platform_alerts_refresh()
    return delivered


@shared_task(name="slo.tasks.prune_history", ignore_result=True)
@beat_job(lock_seconds=3600)
def prune_history() -> int:
    return slo_history_prune(now=timezone.now())


@shared_task(name="slo.tasks.sync_silences", ignore_result=True)
@beat_job(lock_seconds=240)
def sync_silences() -> int:
    """Make the Alertmanager silences of the maintenance windows of the next day (once each)."""
    return silences_sync().created
