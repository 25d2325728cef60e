"""Beat jobs of the platform metrics (M1–M12), the catalog probe (M3), budget burn, audit
completeness (M11) and the watch for unexpected actors (F3): thin, idempotent entry points
(schedule in ssops_site/celery.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from celery import shared_task
from django.utils import timezone

from core.jobs import beat_job, last_success
from metrics.actors import unexpected_actors_scan
from metrics.deny_spikes import policy_deny_spikes_evaluate
from metrics.probe import catalog_probe
from metrics.services import (
    audit_gaps_reconcile,
    budget_burn_evaluate,
    metric_snapshots_record,
    periods_due,
    platform_records_prune,
)


@shared_task(name="metrics.tasks.probe_catalog", ignore_result=True)
@beat_job(lock_seconds=120)
def probe_catalog() -> bool:
    """Probe the catalog API over HTTP for this minute (M3); once per minute however often run."""
    return catalog_probe(at=timezone.now()).ok


@shared_task(name="metrics.tasks.platform_metrics", ignore_result=True)
@beat_job(lock_seconds=1200)
def platform_metrics() -> dict:
    """Compute and store M1–M12 for the current day, week and month (and the previous ones
    until they are final). Recomputing a period replaces its figures."""
    now = timezone.now()
    return {
        f"{period.kind} {period.label}": metric_snapshots_record(period=period, now=now)
        for period in periods_due(now=now)
    }


@shared_task(name="metrics.tasks.audit_completeness", ignore_result=True)
@beat_job(lock_seconds=3000)
def audit_completeness() -> list[str]:
    """Name every transition without its audit event, since a day before the last run that
    succeeded (everything, the first time). Returns the new gaps."""
    now = timezone.now()
    since = last_success("metrics.tasks.audit_completeness")
    start = since - timedelta(days=1) if since else datetime(2000, 1, 1, tzinfo=UTC)
    return [gap.problem for gap in audit_gaps_reconcile(start=start, end=now, now=now)]


@shared_task(name="metrics.tasks.budget_burn", ignore_result=True)
@beat_job(lock_seconds=3000)
def budget_burn() -> dict:
    """Each budgeted team's cost burn rate this month; alert above twice the budgeted pace."""
    return {alert.team.slug: alert.burn_rate for alert in budget_burn_evaluate(now=timezone.now())}


@shared_task(name="metrics.tasks.policy_deny_spikes", ignore_result=True)
@beat_job(lock_seconds=240)
def policy_deny_spikes() -> dict:
    """Ticket each policy whose deny rate over the last hour spikes above its 7-day baseline."""
    return policy_deny_spikes_evaluate(now=timezone.now())


@shared_task(name="metrics.tasks.prune_platform_records", ignore_result=True)
@beat_job(lock_seconds=3600)
def prune_platform_records() -> dict:
    return platform_records_prune(now=timezone.now())


@shared_task(name="metrics.tasks.unexpected_actors", ignore_result=True)
@beat_job(lock_seconds=600)
def unexpected_actors() -> dict:
    """Read the audit trail since the last run and flag unexpected actors (F3), once each."""
    return unexpected_actors_scan()
