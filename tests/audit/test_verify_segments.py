"""audit_verify in segments: each segment checks its own links and its boundary, so a long
chain checked by parallel processes finds exactly what one pass finds."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from audit.services import audit_record
from audit.verify import verify_chain, verify_segment
from tests.helpers import append_only_triggers_removed, raw


def record_many(n: int):
    return [
        audit_record(action="thing.done", object_type="t", object_id=str(i), payload={"n": i})
        for i in range(1, n + 1)
    ]


@pytest.mark.django_db
def test_segments_of_an_intact_chain_add_up_to_the_whole():
    events = record_many(30)
    cuts = [0, 7, 8, 19, 30]
    results = [verify_segment(a, b) for a, b in zip(cuts, cuts[1:], strict=False)]
    assert all(problems == [] for problems, _, _ in results)
    assert sum(count for _, count, _ in results) == 30
    assert [head for _, _, head in results] == [events[b - 1].hash for b in cuts[1:]]


@pytest.mark.django_db
def test_a_segment_checks_the_link_across_its_boundary():
    record_many(20)
    with append_only_triggers_removed():
        raw("UPDATE audit_auditevent SET prev_hash = %s WHERE seq = 11", ["a" * 64])
    before, _, _ = verify_segment(0, 10)
    after, _, _ = verify_segment(10, 20)
    assert before == []
    assert {(p.kind, p.seq) for p in after} == {("changed", 11), ("link", 11)}


@pytest.mark.django_db
def test_a_segment_after_a_gap_links_to_the_last_event_before_it():
    events = record_many(12)
    with append_only_triggers_removed():
        raw("DELETE FROM audit_auditevent WHERE seq IN (6, 7)")
    problems, count, _ = verify_segment(6, 12)
    assert count == 5 and {(p.kind, p.seq) for p in problems} == {("link", 8)}
    assert verify_chain().problems[0].uuid == events[7].content["uuid"]


@pytest.mark.django_db
def test_inside_a_transaction_it_verifies_in_this_process():
    record_many(40)
    report = verify_chain(processes=4, segment_min=5)
    assert report.ok and report.count == 40 and report.processes == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_processes_verify_a_long_chain_in_segments():
    events = record_many(60)
    report = verify_chain(processes=3, segment_min=10)
    assert report.ok and report.processes == 3
    assert report.count == 60 and report.head_hash == events[-1].hash


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_processes_find_and_name_a_changed_event_at_a_boundary():
    events = record_many(60)
    with append_only_triggers_removed():
        # seq 21 opens the second of three segments: (0, 20], (20, 40], (40, 60]
        raw(
            "UPDATE audit_auditevent SET body = REPLACE(body, %s, %s) WHERE seq = 21",
            ['"n":21', '"n":99'],
        )
    report = verify_chain(processes=3, segment_min=10)
    assert report.processes == 3 and report.count == 60
    assert [p.line() for p in report.problems] == [
        f"CHANGED: seq 21 event {events[20].content['uuid']}: content no longer matches its hash"
    ]


@pytest.mark.django_db
def test_the_command_says_how_many_processes_verified():
    record_many(3)
    out = io.StringIO()
    call_command("audit_verify", "--processes", "1", stdout=out)
    assert (
        "3 events, 0 checkpoints" in out.getvalue()
        and "1 process(es): chain intact" in out.getvalue()
    )


def test_it_refuses_zero_processes():
    with pytest.raises(CommandError, match="--processes 0: give 1 or more"):
        call_command("audit_verify", "--processes", "0")
