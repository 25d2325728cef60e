"""Beat jobs run one at a time (a lease in the database) and every run is recorded."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from core.jobs import (
    beat_job,
    job_run,
    job_runs_overview,
    job_runs_prune,
    last_success,
    lock_acquire,
    lock_release,
)
from core.models import JobLock, JobRun
from ssops_site.celery import app


@pytest.mark.django_db
def test_a_run_is_recorded_with_its_duration_outcome_and_result():
    assert job_run("tests.ok", lambda: {"done": 3}) == {"done": 3}
    run = JobRun.objects.get(name="tests.ok")
    assert run.outcome == "ok" and run.result == {"done": 3} and run.duration_ms >= 0
    assert run.finished_at >= run.started_at and ":" in run.worker
    assert not JobLock.objects.get(name="tests.ok").holder  # released


@pytest.mark.django_db
def test_a_failure_is_recorded_raised_and_releases_the_lock():
    def broken():
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        job_run("tests.broken", broken)
    run = JobRun.objects.get(name="tests.broken")
    assert run.outcome == "failed" and run.error == "RuntimeError: disk full"
    assert job_run("tests.broken", lambda: 1) == 1  # the next run is not locked out


@pytest.mark.django_db
def test_a_second_run_while_the_first_holds_the_lock_is_skipped_and_recorded():
    token = lock_acquire("tests.busy", seconds=60)
    assert token and lock_acquire("tests.busy", seconds=60) is None
    ran = []
    assert job_run("tests.busy", lambda: ran.append(1)) is None
    assert ran == []
    skipped = JobRun.objects.get(name="tests.busy")
    assert skipped.outcome == "skipped" and "holds the lock until" in skipped.error
    lock_release("tests.busy", token)
    assert job_run("tests.busy", lambda: "ran") == "ran"


@pytest.mark.django_db
def test_a_lease_left_by_a_dead_worker_expires():
    past = timezone.now() - timedelta(minutes=10)
    assert lock_acquire("tests.dead", seconds=60, now=past)
    assert lock_acquire("tests.dead", seconds=60) is not None


@pytest.mark.django_db
def test_every_beat_task_takes_the_lock_and_records_its_runs(monkeypatch):
    """Each scheduled task is wrapped by beat_job under its own task name."""
    app.loader.import_default_modules()
    for entry in app.conf.beat_schedule.values():
        task = app.tasks[entry["task"]]
        assert getattr(task.run, "job_name", None) == entry["task"], entry["task"]


@pytest.mark.django_db
def test_the_overview_gives_each_scheduled_job_its_last_run_and_failures():
    @beat_job
    def sample():
        return 1

    sample()
    job_run("audit.tasks.checkpoint", lambda: 5)
    with pytest.raises(ValueError):
        job_run("audit.tasks.checkpoint", lambda: int("x"))
    rows = {row["name"]: row for row in job_runs_overview()}
    checkpoint = rows["audit.tasks.checkpoint"]
    assert checkpoint["last_outcome"] == "failed" and checkpoint["failures_24h"] == 1
    assert checkpoint["last_ok"] is not None and checkpoint["scheduled"]
    assert rows["slo.tasks.evaluate"]["last_started"] is None  # scheduled, never run yet
    unscheduled = rows[f"{__name__}.sample"]
    assert unscheduled["last_outcome"] == "ok" and not unscheduled["scheduled"]
    assert last_success("audit.tasks.checkpoint") == checkpoint["last_ok"]


@pytest.mark.django_db
def test_old_runs_are_pruned():
    job_run("tests.old", lambda: 1)
    JobRun.objects.update(started_at=timezone.now() - timedelta(days=31))
    job_run("tests.old", lambda: 2)
    assert job_runs_prune() == 1 and JobRun.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_beats_running_one_job_at_once_run_it_once():
    """Two workers (threads with their own database connections) start the same job at the
    same moment: one runs it, the other is skipped."""
    started, release = threading.Event(), threading.Event()
    runs = []

    def job():
        runs.append(threading.get_ident())
        started.set()
        assert release.wait(10)
        return "ran"

    outcomes = {}

    def worker(name):
        try:
            outcomes[name] = job_run("tests.concurrent", job)
        finally:
            connection.close()

    first = threading.Thread(target=worker, args=("first",))
    first.start()
    assert started.wait(10)
    second = threading.Thread(target=worker, args=("second",))
    second.start()
    second.join(10)
    release.set()
    first.join(10)
    assert outcomes == {"first": "ran", "second": None}
    assert len(runs) == 1
    assert sorted(JobRun.objects.values_list("outcome", flat=True)) == ["ok", "skipped"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_for_a_free_lease_lets_exactly_one_win():
    barrier = threading.Barrier(6)
    won = []

    def race():
        try:
            barrier.wait(10)
            if lock_acquire("tests.race", seconds=60):
                won.append(1)
        finally:
            connection.close()

    threads = [threading.Thread(target=race) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(won) == 1
