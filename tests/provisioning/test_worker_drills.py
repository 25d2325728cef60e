"""Drills with a real Celery worker on Redis and a real PostgreSQL (PostgreSQL pass only; each
drill once): what the eager tests cannot show — acks_late and redelivery after SIGKILL, retries
through the broker, compensation and teardown carried out by another process.

The worker runs with the tight broker options of tests/services/celery_worker.py, the local
PostgreSQL as the server for new databases (a prefix of this module's own, dropped at the end)
and a local webhook receiver whose answers each drill scripts.
"""

import uuid

import psycopg
import pytest

from catalog.models import Quota, Request, Reservation
from catalog.services import request_submit, requests_expire_due
from provisioning import crypto
from provisioning.models import Resource, ResourceSecret
from tests import helpers
from tests.catalog.conftest import assert_counters_match_reservations
from tests.provisioning.conftest import (
    ADMIN_DSN,
    WEBHOOK_SECRET,
    Receiver,
    database_step,
    drop_prefixed,
    grant_step,
    namespace_step,
    pg_objects,
    webhook_step,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WAIT_SECONDS = 90
FINAL = {"ready", "rolled_back", "failed", "deleted", "denied"}


@pytest.fixture(scope="module")
def drill_receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture(scope="module")
def drill_prefix():
    prefix = f"ssopsdrill{uuid.uuid4().hex[:6]}_"
    yield prefix
    drop_prefixed(prefix)


@pytest.fixture(scope="module")
def drill_worker(celery_workers, drill_receiver, drill_prefix):
    return celery_workers(
        env={
            "SSOPS_PROVISION_POSTGRES_URL": ADMIN_DSN,
            "SSOPS_PROVISION_PREFIX": drill_prefix,
            "SSOPS_WEBHOOK_URLS": drill_receiver.url,
            "SSOPS_WEBHOOK_SECRET": WEBHOOK_SECRET,
        }
    )


@pytest.fixture
def worker(drill_worker, settings, drill_receiver, drill_prefix):
    """The drill worker, running, with this process sending to it (and set like it); the
    drill's databases and roles are dropped afterwards."""
    if not drill_worker.running:
        drill_worker.start()
    settings.PROVISION_POSTGRES_URL = ADMIN_DSN
    settings.PROVISION_PREFIX = drill_prefix
    settings.WEBHOOK_URLS = [drill_receiver.url]
    settings.WEBHOOK_SECRET = WEBHOOK_SECRET
    with drill_worker.on_redis():
        yield drill_worker
    drop_prefixed(drill_prefix)


def file_request(bob, team, name: str) -> Request:
    return request_submit(actor=bob, template="engine", team=team, parameters={"name": name})


def wait_for(predicate, what: str):
    return helpers.wait_for(predicate, what, WAIT_SECONDS)


def settled(request: Request) -> Request:
    """The request once it rests: in a final-looking state with no run still going."""

    def done():
        request.refresh_from_db()
        busy = request.runs.filter(state__in=("pending", "running", "compensating")).exists()
        return request if request.state in FINAL and not busy else None

    return wait_for(done, f"request {request.uuid} to settle")


def test_a_permanent_failure_at_step_3_of_4_leaves_nothing_behind(
    worker, engine_template, drill_receiver, drill_prefix, bob, team
):
    engine_template(
        database_step(),
        grant_step(),
        webhook_step("notify", drill_receiver.script("/drill-refuses", 422)),
        namespace_step(),
    )
    request = settled(file_request(bob, team, "drill-four"))
    run = request.runs.get()
    assert (request.state, run.state) == ("rolled_back", "rolled_back"), run.error
    assert [(s.step_id, s.operation, s.state) for s in run.steps.order_by("position")] == [
        ("db", "apply", "succeeded"),
        ("grant", "apply", "succeeded"),
        ("notify", "apply", "failed"),
        ("ns", "apply", "skipped"),
        ("grant", "undo", "succeeded"),
        ("db", "undo", "succeeded"),
    ]
    assert pg_objects(drill_prefix) == {"databases": [], "roles": []}
    assert not bob.groups.filter(name__startswith="elevated:").exists()
    assert Reservation.objects.get(request=request).state == "released"
    assert Quota.objects.get(team=team, kind="engine").used_count == 0
    assert_counters_match_reservations()


def test_a_worker_killed_mid_step_and_restarted_finishes_the_run_exactly_once(
    worker, engine_template, drill_receiver, drill_prefix, bob, team
):
    engine_template(
        database_step(), webhook_step("notify", drill_receiver.script("/drill-ok", 200))
    )
    # Hold the catalog lock COMMENT ON needs: the database step makes its role and database,
    # then waits — killed there, it has done its work but not recorded it.
    blocker = psycopg.connect(ADMIN_DSN)
    blocker.execute("LOCK TABLE pg_catalog.pg_shdescription IN SHARE MODE")
    try:
        request = file_request(bob, team, "drill-kill")
        wait_for(lambda: pg_objects(drill_prefix)["databases"], "the step to create the database")
        worker.kill()
    finally:
        blocker.close()  # the lock goes with the transaction
    assert Request.objects.get(pk=request.pk).state == "provisioning"
    worker.start()  # the message comes back after the visibility timeout
    request = settled(request)
    assert request.state == "ready", request.runs.get().error
    name = Resource.objects.get(request=request).name
    assert pg_objects(drill_prefix) == {"databases": [name], "roles": [name]}
    database = request.runs.get().steps.get(step_id="db")
    assert database.attempts >= 2 and database.state == "succeeded"
    assert Resource.objects.filter(request=request).count() == 1
    assert request.transitions.filter(to_state="ready").count() == 1
    assert len(drill_receiver.posts("/drill-ok")) == 1
    # The password works, and it was in no log line of the worker (nor its ciphertext).
    password = str(crypto.decrypt(ResourceSecret.objects.get(resource__request=request).ciphertext))
    psycopg.connect(host="127.0.0.1", dbname=name, user=name, password=password).close()
    assert password not in worker.log()
    assert "attempt 2" in worker.log()


def test_a_transient_error_is_retried_through_the_broker_and_succeeds(
    worker, engine_template, drill_receiver, bob, team
):
    engine_template(webhook_step("notify", drill_receiver.script("/drill-flaky", 503, 503, 200)))
    request = settled(file_request(bob, team, "drill-flaky"))
    notify = request.runs.get().steps.get()
    assert request.state == "ready" and notify.attempts == 3
    assert list(notify.transitions.values_list("to_state", flat=True)) == [
        "running",
        "retrying",
        "running",
        "retrying",
        "running",
        "succeeded",
    ]
    assert len(drill_receiver.posts("/drill-flaky")) == 3


def test_expiry_deletes_the_database_and_releases_the_quota(
    worker, engine_template, drill_prefix, bob, team
):
    engine_template(database_step())
    request = settled(file_request(bob, team, "drill-expiry"))
    assert request.state == "ready" and len(pg_objects(drill_prefix)["databases"]) == 1
    assert Quota.objects.get(team=team, kind="engine").used_count == 1
    assert requests_expire_due(now=request.expires_at)["ttl_reached"] == 1
    request = settled(request)
    assert request.state == "deleted"
    assert pg_objects(drill_prefix) == {"databases": [], "roles": []}
    assert Resource.objects.get(request=request).state == "deleted"
    assert Quota.objects.get(team=team, kind="engine").used_count == 0
    assert_counters_match_reservations()
