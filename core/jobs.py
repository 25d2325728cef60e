"""Beat jobs: one run at a time, and every run recorded.

    @shared_task(name="slo.tasks.evaluate", ignore_result=True)
    @beat_job(lock_seconds=120)
    def evaluate(...): ...

Before the job runs it takes a lease in the database (`JobLock`, a conditional UPDATE that only
one transaction can win, on SQLite and PostgreSQL alike). A second beat sending the same job, or
a run that overlaps the previous one, finds the lease taken: it does nothing and is recorded as
`skipped`. The lease ends when the run ends, or after `lock_seconds` if its worker died, so set
`lock_seconds` above the job's longest run. Each run is recorded as a `JobRun` (start, duration,
outcome, error, result) for the on-call page; recording never makes a job fail.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from celery import current_app
from django.db.models import Count, OuterRef, Q, Subquery
from django.utils import timezone

from core.models import JobLock, JobOutcome, JobRun

logger = logging.getLogger(__name__)

LOCK_SECONDS = 600
KEEP_RUNS = timedelta(days=30)
MAX_RESULT_CHARS = 2000


def lock_acquire(name: str, *, seconds: float, now: datetime | None = None) -> str | None:
    """Take the lease on `name` for `seconds`; the holder's token, or None when it is taken."""
    now = now or timezone.now()
    token = uuid.uuid4().hex
    JobLock.objects.get_or_create(name=name)
    free = Q(locked_until__isnull=True) | Q(locked_until__lte=now)
    taken = (
        JobLock.objects.filter(free, name=name).update(
            holder=token, locked_until=now + timedelta(seconds=seconds), acquired_at=now
        )
        == 1
    )
    return token if taken else None


def lock_release(name: str, token: str) -> None:
    JobLock.objects.filter(name=name, holder=token).update(holder="", locked_until=None)


def _worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:200]


def _plain(result: Any) -> Any:
    """The result as JSON (small), or its text when it is not JSON-friendly or too long."""
    try:
        text = json.dumps(result, default=str)
    except (TypeError, ValueError):
        text = json.dumps(str(result))
    if len(text) > MAX_RESULT_CHARS:
        return {"truncated": text[:MAX_RESULT_CHARS]}
    return json.loads(text)


def _record(name: str, started: datetime, clock: float, outcome: str, **fields) -> None:
    try:
        JobRun.objects.create(
            name=name,
            started_at=started,
            finished_at=timezone.now(),
            duration_ms=(time.perf_counter() - clock) * 1000,
            outcome=outcome,
            worker=_worker(),
            **fields,
        )
    except Exception:  # a job's outcome must not depend on its bookkeeping
        logger.exception("could not record a run of %s", name)


def job_run(name: str, call: Callable[[], Any], *, lock_seconds: float = LOCK_SECONDS) -> Any:
    """Run `call` as the job `name` if no other run holds its lease; record the run.

    Returns what `call` returned, or None when the run was skipped. An exception is recorded
    and raised again (Celery logs it and, where the task asks for it, retries)."""
    started, clock = timezone.now(), time.perf_counter()
    token = lock_acquire(name, seconds=lock_seconds, now=started)
    if token is None:
        holder = JobLock.objects.filter(name=name).values_list("locked_until", flat=True).first()
        detail = f"another run holds the lock until {holder:%Y-%m-%d %H:%M:%S} UTC"
        logger.warning("%s skipped: %s", name, detail)
        _record(name, started, clock, JobOutcome.SKIPPED, error=detail)
        return None
    try:
        result = call()
    except Exception as exc:
        lock_release(name, token)
        _record(name, started, clock, JobOutcome.FAILED, error=f"{type(exc).__name__}: {exc}")
        raise
    lock_release(name, token)
    _record(name, started, clock, JobOutcome.OK, result=_plain(result))
    return result


def job_record(name: str, call: Callable[[], Any], *, result: Callable[[Any], Any] = _plain) -> Any:
    """Run `call` without a lock (for work split into idempotent parts, such as SLO batches) and
    record the run as job `name`, with `result(value)` as its result."""
    started, clock = timezone.now(), time.perf_counter()
    try:
        value = call()
    except Exception as exc:
        _record(name, started, clock, JobOutcome.FAILED, error=f"{type(exc).__name__}: {exc}")
        raise
    _record(name, started, clock, JobOutcome.OK, result=_plain(result(value)))
    return value


def beat_job(func: Callable | None = None, *, lock_seconds: float = LOCK_SECONDS):
    """Decorate a task function (under @shared_task) so it runs once at a time and is recorded
    under its task name, `<module>.<function>`."""

    def decorate(func: Callable) -> Callable:
        name = f"{func.__module__}.{func.__name__}"

        @functools.wraps(func)
        def run(*args, **kwargs):
            return job_run(
                name, functools.partial(func, *args, **kwargs), lock_seconds=lock_seconds
            )

        run.job_name = name  # type: ignore[attr-defined]
        return run

    return decorate(func) if func is not None else decorate


# --- reads and housekeeping -----------------------------------------------------------------


def beat_job_names() -> list[str]:
    """The task of every beat entry, in the order of the schedule (the project's Celery app is
    the current one in every SSOps process)."""
    schedule = current_app.conf.beat_schedule
    return list(dict.fromkeys(entry["task"] for entry in schedule.values()))


def job_runs_overview(*, now: datetime | None = None) -> list[dict]:
    """Per beat job (and any other job that ever ran): the last run (start, duration, outcome,
    error), the last success and the failures of the last 24 hours — in one query."""
    now = now or timezone.now()
    runs = JobRun.objects.filter(name=OuterRef("name")).order_by("-started_at", "-id")
    ok = runs.filter(outcome=JobOutcome.OK)
    failed = (
        JobRun.objects.filter(
            name=OuterRef("name"), outcome=JobOutcome.FAILED, started_at__gte=now - timedelta(1)
        )
        .order_by()
        .values("name")
        .annotate(n=Count("id"))
        .values("n")
    )
    rows = JobLock.objects.annotate(
        last_started=Subquery(runs.values("started_at")[:1]),
        last_duration_ms=Subquery(runs.values("duration_ms")[:1]),
        last_outcome=Subquery(runs.values("outcome")[:1]),
        last_error=Subquery(runs.values("error")[:1]),
        last_ok=Subquery(ok.values("started_at")[:1]),
        failures_24h=Subquery(failed),
    ).values(
        "name",
        "locked_until",
        "last_started",
        "last_duration_ms",
        "last_outcome",
        "last_error",
        "last_ok",
        "failures_24h",
    )
    found = {row["name"]: row for row in rows}
    scheduled = beat_job_names()
    overview = []
    for name in scheduled + sorted(set(found) - set(scheduled)):
        row = dict(found.get(name) or {"name": name, "last_started": None, "locked_until": None})
        row["failures_24h"] = row.get("failures_24h") or 0
        row["running"] = bool(row["locked_until"] and row["locked_until"] > now)
        row["scheduled"] = name in scheduled
        overview.append(row)
    return overview


def last_success(name: str) -> datetime | None:
    """When the last successful run of job `name` started."""
    return (
        JobRun.objects.filter(name=name, outcome=JobOutcome.OK)
        .order_by("-started_at")
        .values_list("started_at", flat=True)
        .first()
    )


def job_runs_prune(*, now: datetime | None = None, keep: timedelta = KEEP_RUNS) -> int:
    now = now or timezone.now()
    return JobRun.objects.filter(started_at__lt=now - keep).delete()[0]
