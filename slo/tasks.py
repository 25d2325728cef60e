"""Beat jobs of the SLO engine: thin, idempotent entry points (schedule in ssops_site/celery.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from slo.services import (
    alert_deliveries_send,
    slo_batches,
    slo_evaluation_record,
    slo_history_prune,
)
from ssops_site.jobs import beat_job, job_record


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
    """Post what waits in the alert outbox to Alertmanager (retries failed posts)."""
    return alert_deliveries_send().delivered


@shared_task(name="slo.tasks.prune_history", ignore_result=True)
@beat_job(lock_seconds=3600)
def prune_history() -> int:
    return slo_history_prune(now=timezone.now())


# --- platform metrics (M1–M12), the catalog probe, budgets, audit completeness ---------------


@shared_task(name="slo.tasks.probe_catalog", ignore_result=True)
@beat_job(lock_seconds=120)
def probe_catalog() -> bool:
    """Probe the catalog API over HTTP for this minute (M3); once per minute however often run."""
    from slo.platform.probe import catalog_probe

    return catalog_probe(at=timezone.now()).ok


@shared_task(name="slo.tasks.platform_metrics", ignore_result=True)
@beat_job(lock_seconds=1200)
def platform_metrics() -> dict:
    """Compute and store M1–M12 for the current day, week and month (and the previous ones
    until they are final). Recomputing a period replaces its figures."""
    from slo.platform.services import metric_snapshots_record, periods_due

    now = timezone.now()
    return {
        f"{period.kind} {period.label}": metric_snapshots_record(period=period, now=now)
        for period in periods_due(now=now)
    }


@shared_task(name="slo.tasks.audit_completeness", ignore_result=True)
@beat_job(lock_seconds=3000)
def audit_completeness() -> list[str]:
    """Name every transition without its audit event, since a day before the last run that
    succeeded (everything, the first time). Returns the new gaps."""
    from slo.platform.services import audit_gaps_reconcile
    from ssops_site.jobs import last_success

    now = timezone.now()
    since = last_success("slo.tasks.audit_completeness")
    start = since - timedelta(days=1) if since else datetime(2000, 1, 1, tzinfo=UTC)
    return [gap.problem for gap in audit_gaps_reconcile(start=start, end=now, now=now)]


@shared_task(name="slo.tasks.budget_burn", ignore_result=True)
@beat_job(lock_seconds=3000)
def budget_burn() -> dict:
    """Each budgeted team's cost burn rate this month; alert above twice the budgeted pace."""
    from slo.platform.services import budget_burn_evaluate

    return {alert.team.slug: alert.burn_rate for alert in budget_burn_evaluate(now=timezone.now())}


@shared_task(name="slo.tasks.prune_platform_records", ignore_result=True)
@beat_job(lock_seconds=3600)
def prune_platform_records() -> dict:
    from slo.platform.services import platform_records_prune

    return platform_records_prune(now=timezone.now())
