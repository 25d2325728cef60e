"""The lock order on PostgreSQL: a request's row, its run's row, the quota counters, then the
audit chain. A run that ends changes its request after appending to the chain; an extension
or a decision locks the request and then appends. Were the run to take the chain first, each
would wait for the other (the fuzz test met this deadlock: an extension answered 500 while a
teardown ended)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction

from audit.services import audit_record
from audit.verify import verify_chain
from catalog.models import Request
from catalog.services import request_submit
from tests.helpers import wait_for
from tests.provisioning.conftest import webhook_step

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _waiting_on_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def test_a_run_that_ends_waits_for_its_locked_request_before_the_audit_chain(
    engine_template, receiver, bob, team
):
    hold = receiver.hold("/slow")
    engine_template(webhook_step("call", receiver.script("/slow", 200)))
    errors: list[BaseException] = []

    def provision() -> None:  # the step runs here (Celery is eager) and waits on the webhook
        try:
            request_submit(actor=bob, template="engine", team=team, parameters={"name": "one"})
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    engine = threading.Thread(target=provision)
    engine.start()
    try:
        wait_for(lambda: receiver.posts("/slow"), "the step to call its webhook")
        request = Request.objects.get(state="provisioning")
        with transaction.atomic():  # as an extension does: the request first, then the chain
            Request.objects.select_for_update().get(pk=request.pk)
            hold.set()  # the step succeeds and its run ends, changing the request
            wait_for(_waiting_on_a_lock, "the run's end to wait for the request")
            audit_record(action="request.probed", actor=bob, obj=request, team=team.pk)
    finally:
        hold.set()
        engine.join(60)
    assert errors == []
    request.refresh_from_db()
    assert request.state == "ready", "the run did not end: was it a deadlock's victim?"
    assert verify_chain().ok
