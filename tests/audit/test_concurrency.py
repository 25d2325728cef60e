"""Concurrent appends on PostgreSQL leave one valid chain with no gaps or forks."""

import threading

import pytest
from django.db import connection, connections

from audit.models import AuditEvent
from audit.services import audit_record
from audit.verify import verify_chain

WRITERS = 8
EACH = 500


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_eight_writers_leave_a_valid_chain():
    errors: list[BaseException] = []
    start = threading.Barrier(WRITERS)

    def writer(n: int) -> None:
        try:
            start.wait()
            for i in range(EACH):
                audit_record(action="load.append", object_type="test.writer", object_id=f"{n}-{i}")
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert connection.vendor == "postgresql"
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, WRITERS * EACH + 1))
    report = verify_chain()
    assert report.ok and report.count == WRITERS * EACH
    per_writer = AuditEvent.objects.filter(object_id__startswith="3-").count()
    assert per_writer == EACH
