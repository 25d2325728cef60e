"""SLO evaluation split into batches: every SLO evaluated once per minute, whoever runs what."""

from datetime import UTC, datetime

import pytest

from core.models import JobRun
from slo.models import SLO, Snapshot
from slo.services import slo_batches, slo_evaluation_record
from slo.tasks import evaluate

pytestmark = pytest.mark.django_db
MINUTE = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def test_batches_hold_every_slo_once_and_no_more_than_asked(workload_slos):
    batches = slo_batches(size=3)
    ids = [pk for batch in batches for pk in batch]
    assert sorted(ids) == sorted(SLO.objects.values_list("pk", flat=True))
    assert len(ids) == len(set(ids)) and all(len(batch) <= 3 for batch in batches)
    assert len(batches) > 1


def test_a_batch_run_twice_evaluates_its_slos_once(workload_slos):
    ids = slo_batches(size=3)[0]
    first = slo_evaluation_record(at=MINUTE, slo_ids=ids)
    again = slo_evaluation_record(at=MINUTE, slo_ids=ids)
    assert len(first) == len(ids) and again == []
    assert Snapshot.objects.filter(at=MINUTE).count() == len(ids)


def test_the_beat_job_hands_out_batches_that_together_evaluate_every_slo(workload_slos, settings):
    settings.SLO_BATCH_SIZE = 3
    batches = evaluate(at=MINUTE.isoformat())  # eager: each batch task runs right here
    assert batches == len(slo_batches(size=3))
    per_slo = Snapshot.objects.filter(at=MINUTE).values_list("slo__name", flat=True)
    assert sorted(per_slo) == sorted(SLO.objects.values_list("name", flat=True))
    runs = JobRun.objects.filter(name="slo.tasks.evaluate_batch")
    assert runs.count() == batches
    evaluated = [name for run in runs for name in run.result["slos"]]
    assert sorted(evaluated) == sorted(per_slo)
