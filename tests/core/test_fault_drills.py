"""Fault drills against real services (issue 9): break a dependency for real, in the middle of
the work, and show that SSOps loses nothing, writes nothing half-way and tells the truth.

Where each drill lives:

- Prometheus down: tests/slo/test_sources.py stops a real Prometheus between two evaluations
  and during one (SLOs `unavailable`, no alert fires or resolves, the outbox gets nothing) and
  shows that 5xx answers, answers with warnings and a stalled socket all give `unavailable`;
  tests/slo/test_pages.py that the SLO page says so. Here: a *slow* Prometheus (a TCP server
  that accepts and never answers) through the beat job, down to what the pages say.
- Alertmanager down: tests/slo/test_alert_outbox.py (alerts wait in the outbox, none lost).
- Redis restarted mid-run: here, with a Redis server of the drill's own.
- PostgreSQL connection dropped during a request: here.
- A Celery worker killed (SIGKILL mid-step, then restarted; the run finishes once):
  tests/catalog/provisioning/test_worker_drills.py.

Each drill runs in one database pass: the PostgreSQL ones in the PostgreSQL pass (they need
pg_terminate_backend, or a worker sharing the test database), the others in the SQLite pass.
No mocks: a hook only chooses the moment a real fault happens, and says so.
"""

from __future__ import annotations

import contextlib
import io
import re
import signal
import socket
import subprocess
import threading
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
import redis
import requests
from django.core.management import call_command
from django.db.backends.signals import connection_created

from audit.models import AuditEvent
from catalog.importer import catalog_import
from catalog.models import PolicyDecision, Request, RequestTransition, Reservation
from catalog.services import request_submit
from provisioning.models import ProvisioningRun
from provisioning.services.runs import runs_resume_stalled
from slo import tasks
from slo.models import SLO, AlertDelivery, AlertEvent, Snapshot
from tests.catalog.conftest import (
    POLICIES,
    assert_counters_match_reservations,
    publish,
    template_document,
)
from tests.factories import api_key
from tests.provisioning.conftest import WEBHOOK_SECRET, Receiver, webhook_step
from tests.provisioning.test_worker_drills import settled, wait_for
from tests.services import celery_worker as worker_fixture
from tests.services.prometheus import free_port
from tests.slo import workload
from tests.slo import workload_slos as slo_documents

OUTAGE_PLUS_10 = workload.OUTAGE[0] + 600


def at(moment: float) -> datetime:
    return datetime.fromtimestamp(moment, UTC)


@contextlib.contextmanager
def hang_guard(seconds: int = 120):
    """Turn a hang into a failure (a bound far above the drill's own timeouts, not a timing
    claim): a drill that waits forever would stall the whole suite."""

    def hung(signum, frame):
        raise AssertionError(f"still waiting after {seconds} s: it hangs")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


# --- Prometheus slow -------------------------------------------------------------------------


class SilentServer:
    """A TCP server on 127.0.0.1 that accepts every connection, reads nothing, answers nothing."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.accepted: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):  # closed
            while True:
                self.accepted.append(self.listener.accept()[0])

    def close(self) -> None:
        self.listener.close()
        for connection in self.accepted:
            connection.close()


@pytest.fixture
def drill_slos(tmp_path, team, other_team):
    """The SLOs over the synthetic workload (as tests/slo/conftest.py imports them)."""
    for name, text, owner in [
        ("openslo.yaml", slo_documents.OPENSLO, ["--team", "payments"]),
        ("sloth.yaml", slo_documents.SLOTH, []),
    ]:
        (tmp_path / name).write_text(text)
        call_command("slo_import", str(tmp_path / name), *owner, stdout=io.StringIO())


@pytest.mark.prometheus
@pytest.mark.once
@pytest.mark.django_db
def test_a_slow_prometheus_times_out_pages_no_one_and_the_pages_say_so(
    settings, prometheus, drill_slos, client, bob, oncall, django_capture_on_commit_callbacks
):
    settings.PROMETHEUS_URL = prometheus.url
    settings.ALERTMANAGER_URL = ""  # what would be sent stays in the outbox, to be counted
    with django_capture_on_commit_callbacks(execute=True):
        tasks.evaluate(at=at(OUTAGE_PLUS_10).isoformat())
    assert AlertEvent.objects.filter(slo__name="checkout-availability", kind="fired").exists()
    events, deliveries = AlertEvent.objects.count(), AlertDelivery.objects.count()

    slow = SilentServer()
    settings.PROMETHEUS_URL = slow.url
    settings.PROMETHEUS_TIMEOUT = 0.5
    try:
        with hang_guard(), django_capture_on_commit_callbacks(execute=True):
            tasks.evaluate(at=at(OUTAGE_PLUS_10 + 60).isoformat())
    finally:
        slow.close()
    assert slow.accepted  # the queries did reach it, and were given up on
    later = Snapshot.objects.filter(at=at(OUTAGE_PLUS_10 + 60))
    assert later.count() == SLO.objects.count()
    assert {s.data_status for s in later} == {"unavailable"}
    assert {s.sli for s in later} == {None}
    assert AlertEvent.objects.count() == events  # no page, and the firing one not "resolved"
    assert AlertDelivery.objects.count() == deliveries  # nor kept alive
    slo = SLO.objects.get(name="checkout-availability")
    assert "timed out" in slo.data_status_detail

    client.force_login(bob)
    page = client.get("/slos/checkout-availability/").content.decode()
    since = at(OUTAGE_PLUS_10 + 60).strftime("%Y-%m-%d %H:%M")
    assert f"Prometheus is unreachable since {since} UTC" in page
    assert "no alert fires or resolves until it answers again" in page
    client.force_login(oncall)
    page = client.get("/dashboards/oncall/").content.decode()
    assert "source unavailable" in page and "checkout-availability" in page


# --- Redis restarted mid-run -----------------------------------------------------------------


class RedisServer:
    """A redis-server of the drill's own on a free port, without persistence (like the test
    Redis): a restart loses whatever was queued."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> RedisServer:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
            + ["--appendonly", "no", "--dir", str(self.workdir)],
            stdout=(self.workdir / "redis.log").open("ab"),
            stderr=subprocess.STDOUT,
        )
        wait_for(self._answers, f"redis-server on port {self.port}")
        return self

    def _answers(self) -> bool:
        try:
            return self.client().ping()
        except redis.ConnectionError:
            return False

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_timeout=5)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None


STEP_DONE = re.compile(r"Task provisioning\.tasks\.run_step\[[-0-9a-f]+\] succeeded")
RECONNECTED = re.compile(r"Connected to redis:(?s:.*)Connected to redis:")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_redis_restarted_mid_run_the_run_still_finishes_exactly_once(
    celery_workers, settings, monkeypatch, tmp_path, bob, team
):
    receiver = Receiver()
    broker = RedisServer(tmp_path / "redis").start()
    worker = celery_workers(
        env={
            "CELERY_BROKER_URL": broker.url,
            "SSOPS_WEBHOOK_URLS": receiver.url,
            "SSOPS_WEBHOOK_SECRET": WEBHOOK_SECRET,
        }
    )
    settings.WEBHOOK_URLS, settings.WEBHOOK_SECRET = [receiver.url], WEBHOOK_SECRET
    monkeypatch.setattr(worker_fixture, "REDIS_URL", broker.url)  # on_redis() sends there
    publish(
        template_document(
            "drill",
            steps=[
                webhook_step("first", receiver.script("/first", 200)),
                webhook_step("second", receiver.script("/second", 200)),
            ],
            resources={"kind": "drill", "count": 1},
            output={"values": {}},
        )
    )
    first_call = receiver.hold("/first")  # the first step waits inside its HTTP call
    try:
        with worker.on_redis():
            request = request_submit(
                actor=bob, template="drill", team=team, parameters={"name": "drill-redis"}
            )
            wait_for(lambda: receiver.posts("/first"), "the first step to call out")
            broker.stop()  # Redis goes away in the middle of the step...
            first_call.set()  # ...which finishes while it is down: its next message is lost
            wait_for(lambda: STEP_DONE.search(worker.log()), "the first step's task to end")
            broker.start()  # back, empty
            # Celery 5.7 on Redis: a worker that loses the broker while it holds an unacked
            # message exits ("Unrecoverable error" in kombu's restore); its supervisor starts
            # it again. A worker that survives reconnects by itself.
            wait_for(lambda: not worker.running or RECONNECTED.search(worker.log()), "worker")
            if not worker.running:
                worker.start()
            run = ProvisioningRun.objects.get(request=request)
            assert run.state == "running"
            assert list(run.steps.order_by("position").values_list("step_id", "state")) == [
                ("first", "succeeded"),
                ("second", "pending"),
            ]
            assert broker.client().llen(f"{worker.prefix}celery") == 0  # nothing will run it
            # The beat job's sweep (provisioning.tasks.resource_lifecycle: runs still for 10 min).
            assert runs_resume_stalled(older_than_seconds=0) == 1
            request = settled(request)
    finally:
        first_call.set()
        worker.stop()
        broker.stop()
        receiver.close()
    assert request.state == "ready", request.runs.get().error
    assert request.transitions.filter(to_state="ready").count() == 1
    steps = request.runs.get().steps.order_by("position")
    assert [(s.step_id, s.state, s.attempts) for s in steps] == [
        ("first", "succeeded", 1),
        ("second", "succeeded", 1),
    ]
    assert len(receiver.posts("/first")) == len(receiver.posts("/second")) == 1
    assert "Error calling" in worker.log()  # the lost message, logged by the worker


# --- PostgreSQL connection dropped during a request ------------------------------------------


class ConnectionKiller:
    """Terminates, from a second connection, the server connection of the web thread that is
    about to run the `nth` statement matching `at` (a hook that picks the moment; the fault,
    pg_terminate_backend, is real). Records the tables written before it."""

    def __init__(self, at: str, nth: int = 1):
        self.at = re.compile(at)
        self.left = nth
        self.written: list[str] = []
        self.killed: int | None = None

    def arm(self, sender, connection, **kwargs) -> None:
        if threading.current_thread() is not threading.main_thread():
            connection.execute_wrappers.append(self.wrapper)

    def wrapper(self, execute, sql, params, many, context):
        if self.killed is None:
            self.left -= bool(self.at.search(sql))
            if self.left == 0:
                self.killed = context["connection"].connection.info.backend_pid
                with psycopg.connect(worker_fixture.database_url(), autocommit=True) as admin:
                    admin.execute("SELECT pg_terminate_backend(%s, 10000)", [self.killed])
            elif written := re.match(r'\s*INSERT INTO "?(\w+)', sql):
                self.written.append(written[1])
        return execute(sql, params, many, context)


def half_written() -> dict[str, int]:
    return {
        "requests": Request.objects.count(),
        "transitions": RequestTransition.objects.count(),
        "policy decisions": PolicyDecision.objects.count(),
        "reservations": Reservation.objects.count(),
        "audit events": AuditEvent.objects.filter(action__startswith="request.").count(),
    }


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_connection_dropped_mid_submission_leaves_nothing_half_written(live_server, bob, team):
    assert catalog_import(actor=None, paths=[POLICIES]).ok  # so that decisions are written too
    publish(
        template_document("gadget", riskTier="medium", approvals={"required": 1, "timeout": "24h"})
    )
    api = requests.Session()
    api.headers["Authorization"] = f"Token {api_key(bob)}"
    body = {"template": "gadget", "team": "payments", "parameters": {"name": "drill-pg"}}
    # The last statement of the submission: its second timeline row (pending approval).
    killer = ConnectionKiller(at=r'^INSERT INTO "catalog_requesttransition"', nth=2)
    connection_created.connect(killer.arm)
    try:
        failed = api.post(f"{live_server.url}/api/requests/", json=body, timeout=60)
    finally:
        connection_created.disconnect(killer.arm)
    assert killer.killed is not None
    # The request row, its decisions, reservation and audit events were written when it died...
    assert {
        "catalog_request",
        "catalog_policydecision",
        "catalog_reservation",
        "audit_auditevent",
    } <= set(killer.written)
    assert failed.status_code == 500 and failed.headers["X-Request-ID"]  # names the log line
    # ...and none of it is left: no request without its audit event, no reservation without
    # its request, no counter moved.
    assert set(half_written().values()) == {0}
    assert_counters_match_reservations()
    call_command("audit_verify", stdout=io.StringIO())  # exits non-zero when the chain is broken

    retried = api.post(f"{live_server.url}/api/requests/", json=body, timeout=60)
    assert retried.status_code == 201, retried.text
    request = Request.objects.get(uuid=retried.json()["uuid"])
    assert request.state == "pending_approval"
    assert half_written() == {
        "requests": 1,
        "transitions": 2,
        "policy decisions": PolicyDecision.objects.filter(request=request).count(),
        "reservations": 1,
        "audit events": 2,
    }
    assert_counters_match_reservations()
    call_command("audit_verify", stdout=io.StringIO())
