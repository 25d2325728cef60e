"""Celery entry points of provisioning: ids in, one service call each."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError, connection

from core.jobs import beat_job
from provisioning import runner
from provisioning.services import drift, orphans, resources, runbooks, runs

logger = logging.getLogger(__name__)


@shared_task(name="provisioning.tasks.provision_request", ignore_result=True, acks_late=True)
def provision_request(request_id: int) -> None:
    """Start (or resume) the provisioning run of a request handed over by
    catalog.services.request_start_provisioning (through
    the hand-off signal, provisioning.handoff). Idempotent: one run per request."""
    runs.run_start_provision(request_id=request_id)


@shared_task(name="provisioning.tasks.deprovision_request", ignore_result=True, acks_late=True)
def deprovision_request(request_id: int) -> None:
    """Delete an expired (or deleted) request's resources, then mark it deleted."""
    runs.run_start_teardown(request_id=request_id, reason="time to live reached")


# Eager runs (tests, SSOPS_CELERY_EAGER) cannot go back through a broker: they retry in place,
# at once, this many times at most.
EAGER_RETRIES = 20


def _retrying(task, attempt) -> None:
    """Call attempt(retries) until it needs no retry; on a worker the retry goes through the
    broker with the countdown attempt asked for."""
    retries = task.request.retries
    wait = attempt(retries)
    while wait is not None and task.request.is_eager and retries < EAGER_RETRIES:
        retries += 1
        wait = attempt(retries)
    if wait is not None:
        raise task.retry(countdown=wait)


# A step is idempotent by its key, so it may run again: acks_late with
# task_reject_on_worker_lost puts it back when its worker dies mid-step.
@shared_task(
    name="provisioning.tasks.run_step",
    bind=True,
    ignore_result=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=None,
)
def run_step(self, step_id: int) -> None:
    try:
        _retrying(self, lambda retries: runner.step_execute(step_id=step_id, retries=retries))
    except (OperationalError, InterfaceError) as exc:
        # A deadlock victim or a dropped database connection: nothing of this attempt was
        # committed past its last transaction, and the step is idempotent by its key, so it
        # goes round again on a fresh connection, with the same backoff as transient errors.
        logger.warning("step %s: database error, retrying: %s", step_id, exc)
        connection.close()
        if self.request.is_eager:
            raise
        raise self.retry(countdown=runner.backoff(self.request.retries)) from exc


@shared_task(
    name="provisioning.tasks.verify_runbook_run",
    bind=True,
    ignore_result=True,
    acks_late=True,
    max_retries=None,
)
def verify_runbook_run(self, runbook_run_id: int) -> None:
    """Check a runbook run's effect; until `within` has passed, check again `every` seconds
    (an eager run decides at once: it cannot wait)."""
    patient = not self.request.is_eager
    _retrying(
        self,
        lambda retries: runbooks.runbook_run_verify(runbook_run_id=runbook_run_id, patient=patient),
    )


@shared_task(name="provisioning.tasks.resource_lifecycle", ignore_result=True)
@beat_job(lock_seconds=300)
def resource_lifecycle() -> dict:
    """Beat: revoke access grants at their time, warn owners before expiry, resume stalled
    runs. Idempotent."""
    return resources.resources_lifecycle_sweep()


@shared_task(name="provisioning.tasks.orphan_scan", ignore_result=True)
@beat_job(lock_seconds=1800)
def orphan_scan() -> dict:
    """Beat: find resources whose owner is gone and backend objects missing from the
    inventory."""
    return orphans.orphan_scan()


@shared_task(name="provisioning.tasks.drift_scan", ignore_result=True)
@beat_job(lock_seconds=1800)
def drift_scan() -> dict:
    """Beat: compare what each backend holds with what was provisioned (F4)."""
    return drift.drift_scan()


@shared_task(name="provisioning.tasks.drift_reapply", ignore_result=True, acks_late=True)
def drift_reapply(finding_id: int) -> str:
    """Restore a drifted resource as its template version made it, then check again.
    Idempotent: restoring twice changes nothing more."""
    return drift.drift_reapply_run(finding_id=finding_id)
