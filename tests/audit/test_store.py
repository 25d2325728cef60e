"""The audit store on the real database: appends, triggers, and tamper detection by audit_verify."""

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, transaction
from django.db.transaction import TransactionManagementError

from audit import services
from audit.models import AuditCheckpoint, AuditEvent
from audit.services import audit_batch, audit_checkpoint_create, audit_record
from teams.models import Team
from tests.helpers import append_only_triggers_removed, raw

pytestmark = pytest.mark.django_db


def record_many(n: int, team=None):
    return [
        audit_record(
            action="thing.done",
            object_type="test.thing",
            object_id=str(i),
            team=team,
            payload={"n": i},
        )
        for i in range(1, n + 1)
    ]


def verify() -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("audit_verify", stdout=out)
    except CommandError as exc:
        return exc.returncode, out.getvalue() + str(exc)
    return 0, out.getvalue()


def test_events_are_chained_in_sequence(alice, team):
    events = record_many(3, team=team)
    assert [e.seq for e in events] == [1, 2, 3]
    assert events[1].prev_hash == events[0].hash and events[2].prev_hash == events[1].hash
    stored = AuditEvent.objects.get(seq=2)
    assert (
        stored.action == "thing.done" and stored.team_id == team.pk and stored.payload == {"n": 2}
    )


def test_a_batch_appends_its_events_in_order_when_it_ends(team):
    before = record_many(1, team=team)
    with transaction.atomic(), audit_batch():
        events = record_many(3, team=team)
        with audit_batch():  # a nested block joins the outer one
            events.append(audit_record(action="thing.nested", object_type="t", object_id="x"))
        assert [e.seq for e in events] == [None] * 4
        assert AuditEvent.objects.count() == 1
    assert [e.seq for e in events] == [2, 3, 4, 5]
    assert events[0].prev_hash == before[0].hash
    assert all(b.prev_hash == a.hash for a, b in zip(events, events[1:], strict=False))
    stored = list(AuditEvent.objects.order_by("seq").values_list("action", "hash"))
    assert stored[1:] == [("thing.done", e.hash) for e in events[:3]] + [
        ("thing.nested", events[3].hash)
    ]
    assert verify()[0] == 0


def test_a_batch_that_raises_appends_nothing(team):
    with pytest.raises(RuntimeError), transaction.atomic(), audit_batch():
        record_many(2, team=team)
        raise RuntimeError("the caller failed")
    assert AuditEvent.objects.count() == 0
    assert record_many(1, team=team)[0].seq == 1


def test_a_failed_append_takes_the_callers_change_with_it_even_when_caught(team, monkeypatch):
    """A state change never commits without its event. The fault is real (the database refuses
    the INSERT), caused on purpose by pointing the statement at a table that does not exist."""
    missing = services._INSERT.replace("audit_auditevent", "audit_no_such_table")
    monkeypatch.setattr(services, "_INSERT", missing)
    with transaction.atomic():
        Team.objects.filter(pk=team.pk).update(name="renamed")
        with pytest.raises(DatabaseError):
            audit_record(action="team.renamed", obj=team)
        with pytest.raises(TransactionManagementError):
            Team.objects.count()  # the caller cannot go on as if nothing happened...
    team.refresh_from_db()
    assert team.name != "renamed"  # ...and its change is rolled back with the event
    assert AuditEvent.objects.count() == 0


def test_secrets_are_masked_before_storage(alice):
    event = audit_record(
        action="db.created",
        actor=alice,
        object_type="x",
        object_id="1",
        payload={
            "password": "hunter2",
            "nested": {"api_key": "k-123"},
            "dsn": "postgresql://u:hunter2@h/db",
        },
    )
    stored = AuditEvent.objects.get(seq=event.seq)
    assert "hunter2" not in stored.body and "k-123" not in stored.body
    assert stored.payload["password"] == "***" and stored.actor_name == "alice"


def test_the_generated_columns_cannot_be_set_apart_from_the_body():
    record_many(1)
    with append_only_triggers_removed(), pytest.raises(DatabaseError), transaction.atomic():
        raw("UPDATE audit_auditevent SET action = 'forged' WHERE seq = 1")


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_auditevent SET prev_hash = 'x' WHERE seq = 1",
        "DELETE FROM audit_auditevent WHERE seq = 1",
        "UPDATE audit_auditcheckpoint SET size = 0",
        "DELETE FROM audit_auditcheckpoint",
    ],
)
def test_triggers_refuse_update_and_delete(statement):
    record_many(2)
    audit_checkpoint_create()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        raw(statement)
    assert AuditEvent.objects.count() == 2 and AuditCheckpoint.objects.count() == 1


def test_the_orm_cannot_delete_or_update_events():
    record_many(2)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(seq=1).delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(seq=1).update(prev_hash="0")


@pytest.mark.postgres
def test_truncate_is_refused_on_postgresql():
    record_many(1)
    with pytest.raises(DatabaseError, match="TRUNCATE"), transaction.atomic():
        raw("TRUNCATE audit_auditevent")


def test_an_intact_chain_verifies():
    record_many(5)
    audit_checkpoint_create()
    code, out = verify()
    assert code == 0 and "5 events, 1 checkpoints" in out and "chain intact" in out


def test_verify_locates_a_changed_event():
    events = record_many(6)
    with append_only_triggers_removed():
        raw("UPDATE audit_auditevent SET body = REPLACE(body, '\"n\":3', '\"n\":33') WHERE seq = 3")
    code, out = verify()
    assert code == 1
    assert f"CHANGED: seq 3 event {events[2].content['uuid']}" in out
    assert "1 problem(s) found" in out


def test_verify_locates_a_missing_event():
    events = record_many(6)
    with append_only_triggers_removed():
        raw("DELETE FROM audit_auditevent WHERE seq = 4")
    code, out = verify()
    assert code == 1 and f"MISSING: seq 5 event {events[4].content['uuid']}" in out
    assert "seq 4..4" in out


def test_verify_locates_an_inserted_event():
    events = record_many(5)
    forged = events[1].content | {
        "uuid": "00000000-0000-0000-0000-00000000beef",
        "action": "forged",
    }
    body = json.dumps(forged, sort_keys=True, separators=(",", ":"))
    with append_only_triggers_removed():
        for seq in (5, 4, 3):
            raw("UPDATE audit_auditevent SET seq = %s WHERE seq = %s", [seq + 1, seq])
        raw(
            "INSERT INTO audit_auditevent (seq, body, prev_hash, hash) VALUES (3, %s, %s, %s)",
            [body, events[1].hash, "f" * 64],
        )
    code, out = verify()
    assert code == 1 and "INSERTED: seq 3 event 00000000-0000-0000-0000-00000000beef" in out


def test_verify_locates_reordered_events():
    events = record_many(8)
    with append_only_triggers_removed():
        raw("UPDATE audit_auditevent SET seq = -1 WHERE seq = 2")
        raw("UPDATE audit_auditevent SET seq = 2 WHERE seq = 6")
        raw("UPDATE audit_auditevent SET seq = 6 WHERE seq = -1")
    code, out = verify()
    assert code == 1
    assert f"REORDERED: seq 2 event {events[5].content['uuid']}" in out
    assert f"REORDERED: seq 6 event {events[1].content['uuid']}" in out


def test_verify_detects_a_cut_tail_after_a_checkpoint():
    record_many(6)
    audit_checkpoint_create()
    with append_only_triggers_removed():
        raw("DELETE FROM audit_auditevent WHERE seq > 4")
    code, out = verify()
    assert code == 1 and "TAIL-CUT: seq 6" in out and "events after seq 4 were removed" in out


def test_checkpoint_and_export_commands(tmp_path):
    record_many(3)
    out = io.StringIO()
    call_command("audit_checkpoint", stdout=out)
    assert "checkpoint: 3 events" in out.getvalue()
    target = tmp_path / "audit.jsonl"
    call_command("audit_export", output=str(target), stderr=io.StringIO())
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert [line["seq"] for line in lines] == [1, 2, 3]
    assert lines[1]["prev_hash"] == lines[0]["hash"] and lines[0]["action"] == "thing.done"
