"""Scale-out with two real Celery workers on Redis and a real PostgreSQL (PostgreSQL pass only):
one evaluation cycle of 40 SLOs, read from the session's Prometheus, in batches of 5 shared by
both workers, every SLO evaluated exactly once per cycle however often the cycle or its batches
are delivered; and two beat ticks of one job at once run it once (the lease in ssops_site/jobs.py;
tests/ssops_site/test_jobs.py races it with threads, this with two worker processes).

Each worker runs one task at a time and reserves no more (concurrency 1, prefetch multiplier 1),
so a batch waits for whichever worker is free. Besides the shared default queue, each worker
listens on a queue of its own, which lets a test hand a tick to one worker in particular.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import psycopg
import pytest
from django.utils import timezone

from audit.models import AuditEvent
from core.models import JobLock, JobRun
from slo.models import SLO, AlertEvent, Snapshot
from slo.services import slo_batches
from slo.tasks import evaluate, evaluate_batch
from tests import helpers
from tests.services.celery_worker import database_url, new_prefix
from tests.slo import workload

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.prometheus,
    pytest.mark.django_db(transaction=True),
]

SLO_COUNT = 40
BATCH_SIZE = 5
WAIT_SECONDS = 60
AT = datetime.fromtimestamp(workload.END, UTC)  # a whole minute, the end of the workload
SERVICES = ("checkout", "search", "catalog", "ledger")
EVALUATE, BATCH = "slo.tasks.evaluate", "slo.tasks.evaluate_batch"


def openslo(prometheus_url: str) -> str:
    """SLO_COUNT SLOs over the workload's four services, reading Prometheus at `prometheus_url`."""
    docs = [
        "apiVersion: openslo/v1\nkind: DataSource\nmetadata:\n  name: scale-prometheus\n"
        f"spec:\n  type: Prometheus\n  connectionDetails:\n    - url: {prometheus_url}\n"
    ]
    for i in range(SLO_COUNT):
        service = SERVICES[i % len(SERVICES)]
        query = f'sum(http_requests_total{{service="{service}"'
        docs.append(
            f"""apiVersion: openslo/v1
kind: SLO
metadata:
  name: scale-{service}-{i:02d}
spec:
  service: {service}
  indicator:
    metadata:
      name: scale-{service}-{i:02d}-errors
    spec:
      ratioMetric:
        counter: true
        bad:
          metricSource:
            metricSourceRef: scale-prometheus
            type: Prometheus
            spec:
              query: '{query},code=~"5.."}})'
        total:
          metricSource:
            metricSourceRef: scale-prometheus
            type: Prometheus
            spec:
              query: '{query}}})'
  timeWindow:
    - duration: {("30d", "7d")[i % 2]}
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - target: {(0.999, 0.995, 0.99)[i % 3]}
"""
        )
    return "---\n".join(docs)


@pytest.fixture(scope="module")
def two_workers(celery_workers, prometheus, django_db_blocker):
    """Two workers sharing one broker namespace (so one queue), each with a name of its own."""
    prefix = new_prefix()

    def start(letter: str):
        return celery_workers(
            env={"SSOPS_SLO_BATCH_SIZE": str(BATCH_SIZE)},
            name=f"scale-{letter}",
            prefix=prefix,
            concurrency=1,
            args=("--prefetch-multiplier=1", "-Q", f"celery,scale-{letter}"),
        )

    with ThreadPoolExecutor(2) as pool:  # both start at once
        workers = list(pool.map(start, "ab"))
    yield workers
    for worker in workers:
        worker.stop()  # a warm shutdown: the task in hand is finished first
    # The evaluations queue alert deliveries (slo.tasks.deliver_alerts) that the workers may
    # still record after the last test's flush: remove them, or later modules count them.
    with django_db_blocker.unblock():
        JobRun.objects.all().delete()
        JobLock.objects.all().delete()


@pytest.fixture
def workers(two_workers):
    """Both workers, running, with this process sending to them."""
    for worker in two_workers:
        if not worker.running:
            worker.start()
    with two_workers[0].on_redis():
        yield two_workers


@pytest.fixture
def slos(slo_import, team, prometheus):
    slo_import(openslo(prometheus.url), team=team.slug, name="scale-out.yaml")
    names = sorted(SLO.objects.values_list("name", flat=True))
    assert len(names) == SLO_COUNT
    return names


def wait_for(predicate, what: str):
    return helpers.wait_for(predicate, what, WAIT_SECONDS)


def batch_runs(at: datetime) -> list[JobRun]:
    return list(JobRun.objects.filter(name=BATCH, result__at=at.isoformat()).order_by("id"))


def cycle_runs(cycles: int, at: datetime = AT) -> list[JobRun]:
    """Wait until `cycles` evaluate runs have fanned out and all their batches are recorded;
    the batch runs, oldest first."""
    batches = len(slo_batches(size=BATCH_SIZE))

    def done():
        fanned = list(JobRun.objects.filter(name=EVALUATE).values_list("outcome", "result"))
        assert all(outcome == "ok" for outcome, _ in fanned), fanned
        runs = batch_runs(at)
        return runs if len(fanned) == cycles and len(runs) == cycles * batches else None

    runs = wait_for(done, f"{cycles} cycle(s) of {batches} batches")
    assert all(run.outcome == "ok" for run in runs), [run.error for run in runs]
    return runs


def worker_of(run: JobRun, workers) -> str:
    """The worker (scale-a or scale-b) whose process ran `run` (recorded as host:pid)."""
    pid = int(run.worker.rsplit(":", 1)[1])
    (name,) = [w.name for w in workers if pid in w.pids()]
    return name


def evaluated(runs: list[JobRun]) -> Counter:
    return Counter(name for run in runs for name in run.result["slos"])


def test_two_workers_share_a_cycle_and_evaluate_every_slo_once(workers, slos):
    assert len(slo_batches(size=BATCH_SIZE)) == SLO_COUNT // BATCH_SIZE
    evaluate.delay(at=AT.isoformat())  # one beat tick, through Redis
    runs = cycle_runs(1)

    assert evaluated(runs) == Counter(slos)  # every SLO, each once
    snapshots = Snapshot.objects.filter(at=AT)
    assert sorted(snapshots.values_list("slo__name", flat=True)) == slos
    assert snapshots.filter(data_status="ok").count() == SLO_COUNT  # real figures, no gaps
    assert set(SLO.objects.values_list("evaluated_at", flat=True)) == {AT}
    per_worker = Counter(worker_of(run, workers) for run in runs)
    assert set(per_worker) == {"scale-a", "scale-b"}, per_worker  # the work is shared
    print(f"batches per worker: {dict(sorted(per_worker.items()))}")

    # The same tick delivered again (a second beat, a redelivery): the batches go out again
    # and find their SLOs done — no snapshot, transition or audit event more.
    transitions, audit = AlertEvent.objects.count(), AuditEvent.objects.count()
    evaluate.delay(at=AT.isoformat())
    again = cycle_runs(2)[len(runs) :]
    assert evaluated(again) == Counter()
    assert Snapshot.objects.filter(at=AT).count() == SLO_COUNT
    assert (AlertEvent.objects.count(), AuditEvent.objects.count()) == (transitions, audit)


def test_a_batch_delivered_twice_at_once_is_evaluated_once(workers, slos):
    """Each batch sent twice back to back: both workers may run one batch at the same moment,
    and still each SLO is recorded once."""
    for ids in slo_batches(size=BATCH_SIZE):
        evaluate_batch.delay(ids, AT.isoformat())
        evaluate_batch.delay(ids, AT.isoformat())
    expected = 2 * len(slo_batches(size=BATCH_SIZE))
    runs = wait_for(lambda: (r := batch_runs(AT)) and len(r) == expected and r, "the batches")
    assert all(run.outcome == "ok" for run in runs), [run.error for run in runs]
    assert evaluated(runs) == Counter(slos)
    assert Snapshot.objects.filter(at=AT).count() == SLO_COUNT
    changed = AuditEvent.objects.filter(action="slo.data_status.changed")
    assert changed.values("object_id").distinct().count() == changed.count()
    assert {worker_of(run, workers) for run in runs} == {"scale-a", "scale-b"}


def test_two_ticks_of_one_job_on_two_workers_at_once_run_it_once(workers, slos):
    """Two beats send the same tick, one to each worker. The first run takes the lease and is
    held inside the job (the test locks the SLO table); the second finds the lease taken and is
    skipped. Let go, the first finishes the cycle: every SLO once."""
    blocker = psycopg.connect(database_url())
    try:
        blocker.execute(f"LOCK TABLE {SLO._meta.db_table} IN ACCESS EXCLUSIVE MODE")
        evaluate.apply_async(kwargs={"at": AT.isoformat()}, queue="scale-a")
        wait_for(
            lambda: JobLock.objects.filter(name=EVALUATE, locked_until__gt=timezone.now()),
            "scale-a to take the lease",
        )
        evaluate.apply_async(kwargs={"at": AT.isoformat()}, queue="scale-b")
        skipped = wait_for(
            lambda: JobRun.objects.filter(name=EVALUATE, outcome="skipped").first(),
            "the second tick to be skipped",
        )
    finally:
        blocker.close()  # the lock goes with the transaction
    ran = wait_for(
        lambda: JobRun.objects.filter(name=EVALUATE, outcome="ok").first(), "the first tick"
    )
    assert "holds the lock until" in skipped.error
    assert (worker_of(ran, workers), worker_of(skipped, workers)) == ("scale-a", "scale-b")
    assert JobRun.objects.filter(name=EVALUATE).count() == 2
    runs = wait_for(
        lambda: (r := batch_runs(AT)) and len(r) == SLO_COUNT // BATCH_SIZE and r, "the batches"
    )
    assert evaluated(runs) == Counter(slos)
    assert Snapshot.objects.filter(at=AT).count() == SLO_COUNT
