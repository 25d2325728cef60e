"""The runner without a worker (Celery eager, on commit), on SQLite and PostgreSQL: steps in
order, outputs passed on, transient errors retried, permanent ones compensated in reverse,
redelivered steps run once, cancellation, and every state change with its audit event."""

import json

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import InterfaceError, OperationalError

from audit.models import AuditEvent
from catalog.models import Reservation
from catalog.services import TransitionNotAllowed
from provisioning import claims, runner
from provisioning.models import (
    ProvisioningRun,
    Resource,
    ResourceTransition,
    RunStep,
    RunTransition,
)
from provisioning.services import run_cancel, run_start_provision
from tests.catalog.conftest import assert_counters_match_reservations
from tests.provisioning.conftest import grant_step, namespace_step, step, webhook_step

pytestmark = pytest.mark.django_db


def steps_of(run):
    return list(run.steps.order_by("position"))


def test_a_request_runs_its_steps_in_order_and_becomes_ready(
    provision, engine_template, receiver, bob
):
    url = receiver.script("/inventory", 200)
    engine_template(
        grant_step(),
        namespace_step(),
        step("notify", "webhook.post", url=url, body={"ns": "${{ steps.ns.output.namespace }}"}),
        output={"values": {"grant": "${{ steps.grant.output.grant_id }}"}},
    )
    request = provision()
    run = request.runs.get()
    assert (request.state, run.state) == ("ready", "succeeded")
    steps = steps_of(run)
    assert [(s.step_id, s.state, s.attempts) for s in steps] == [
        ("grant", "succeeded", 1),
        ("ns", "succeeded", 1),
        ("notify", "succeeded", 1),
    ]
    assert steps[0].finished_at <= steps[1].started_at <= steps[2].started_at
    assert all(s.duration_ms is not None and s.log for s in steps)
    # An earlier step's output reached a later step's input, and the template's output.
    assert json.loads(receiver.posts("/inventory")[0]["body"]) == {"ns": "payments-one"}
    assert request.outputs["values"] == {"grant": "elevated:payments-db:read/bob"}
    assert bob.groups.filter(name="elevated:payments-db:read").exists()


def test_resources_carry_owner_requester_cost_center_version_and_expiry(
    provision, engine_template, team
):
    version = engine_template(grant_step(), namespace_step())
    request = provision()
    resources = list(Resource.objects.order_by("id"))
    assert [(r.kind, r.name) for r in resources] == [
        ("access.grant", "elevated:payments-db:read/bob"),
        ("kubernetes.namespace", "payments-one"),
    ]
    for resource in resources:
        assert (resource.team, resource.requester, resource.cost_center) == (
            team,
            request.requester,
            "CC-PAY",
        )
        assert resource.template_version == version and resource.expires_at == request.expires_at
        assert resource.state == "active" and resource.external_id


def test_every_run_step_and_resource_change_has_its_audit_event(provision, engine_template):
    engine_template(grant_step(), namespace_step())
    provision()
    rows = list(RunTransition.objects.all()) + list(ResourceTransition.objects.all())
    assert len(rows) >= 8
    for row in rows:
        event = AuditEvent.objects.get(seq=row.audit_seq)
        body = json.loads(event.body)
        subject = row.step if getattr(row, "step", None) else getattr(row, "run", None)
        subject = subject or row.resource
        assert body["object_id"] == str(subject.uuid)
        assert body["payload"]["to"] == row.to_state


def test_a_permanent_failure_undoes_the_completed_steps_in_reverse(
    provision, engine_template, receiver, bob
):
    engine_template(
        grant_step(),
        namespace_step(),
        webhook_step("notify", receiver.script("/refuses", 400)),
        step("late", "access.grant", subject="bob", system="billing", role="admin", duration="1h"),
    )
    request = provision()
    run = request.runs.get()
    assert (request.state, run.state) == ("rolled_back", "rolled_back")
    assert [(s.position, s.step_id, s.operation, s.state) for s in steps_of(run)] == [
        (1, "grant", "apply", "succeeded"),
        (2, "ns", "apply", "succeeded"),
        (3, "notify", "apply", "failed"),
        (4, "late", "apply", "skipped"),
        (5, "ns", "undo", "succeeded"),
        (6, "grant", "undo", "succeeded"),
    ]
    assert "400" in run.error and run.leftovers == []
    assert not bob.groups.filter(name__startswith="elevated:").exists()
    assert set(Resource.objects.values_list("state", flat=True)) == {"deleted"}
    assert Reservation.objects.get(request=request).state == "released"
    assert_counters_match_reservations()
    states = list(request.transitions.values_list("to_state", flat=True))
    assert states[-3:] == ["provisioning", "failed", "rolled_back"]


def test_a_transient_error_is_retried_and_then_succeeds(provision, engine_template, receiver):
    engine_template(webhook_step("notify", receiver.script("/flaky", 503, 502, 200)))
    request = provision()
    notify = request.runs.get().steps.get()
    assert request.state == "ready" and notify.state == "succeeded" and notify.attempts == 3
    messages = [line["message"] for line in notify.log]
    assert any("retry 1 of 5" in m for m in messages) and any("retry 2 of 5" in m for m in messages)
    assert len(receiver.posts("/flaky")) == 3
    # One idempotency key for every attempt, so the receiver can tell a repeat.
    assert {p["headers"]["Idempotency-Key"] for p in receiver.posts("/flaky")} == {str(notify.uuid)}
    transitions = list(notify.transitions.values_list("to_state", flat=True))
    assert transitions == ["running", "retrying", "running", "retrying", "running", "succeeded"]


def test_a_transient_error_that_never_ends_fails_after_the_retries(
    provision, engine_template, receiver, settings
):
    settings.PROVISION_MAX_RETRIES = 2
    engine_template(grant_step(), webhook_step("notify", receiver.script("/down", 503)))
    request = provision()
    run = request.runs.get()
    notify = run.steps.get(step_id="notify", operation="apply")
    assert notify.state == "failed" and notify.attempts == 3
    assert notify.error.startswith("gave up after 2 retries: POST")
    assert (run.state, request.state) == ("rolled_back", "rolled_back")


def test_backoff_is_exponential_with_jitter_and_capped():
    for retry in range(6):
        ceiling = 2 * 2**retry
        delays = [runner.backoff(retry, base=2) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1
    assert runner.backoff(30, base=2) <= runner.BACKOFF_CAP_SECONDS


def test_a_webhook_outside_the_allowed_urls_fails_plainly(provision, engine_template, receiver):
    engine_template(webhook_step("notify", "https://elsewhere.example/hook"))
    request = provision()
    notify = request.runs.get().steps.get()
    assert notify.state == "failed" and "not under SSOPS_WEBHOOK_URLS" in notify.error
    assert notify.attempts == 1 and receiver.received == []


def test_the_webhook_body_is_signed(provision, engine_template, receiver):
    from catalog.services.notifications import sign
    from tests.provisioning.conftest import WEBHOOK_SECRET

    engine_template(webhook_step("notify", receiver.script("/signed", 204)))
    provision()
    post = receiver.posts("/signed")[0]
    timestamp = int(post["headers"]["X-SSOps-Signature"].split(",")[0][2:])
    assert post["headers"]["X-SSOps-Signature"] == sign(WEBHOOK_SECRET, timestamp, post["body"])


# --- redelivery, claims, cancellation --------------------------------------------------------


def started_run(engine_template, submit_request, *steps):
    """A run whose first step is enqueued but not executed (commit callbacks not run)."""
    engine_template(*steps)
    request = submit_request()
    return run_start_provision(request_id=request.pk)


@pytest.fixture
def submit_request(bob, team):
    from catalog.services import request_submit

    return lambda: request_submit(
        actor=bob, template="engine", team=team, parameters={"name": "payments-one"}
    )


def test_a_step_whose_worker_was_lost_runs_again_and_creates_nothing_twice(
    engine_template, submit_request, on_commit, bob
):
    run = started_run(engine_template, submit_request, grant_step(), namespace_step())
    first = steps_of(run)[0]
    # As if a worker had started the step, done its work and died before recording it.
    RunStep.objects.filter(pk=first.pk).update(state="running", attempts=1)
    with on_commit():
        assert runner.step_execute(step_id=first.pk) is None
    first.refresh_from_db()
    assert first.state == "succeeded" and first.attempts == 2
    assert any("without an answer" in t.reason for t in first.transitions.all())
    run.refresh_from_db()
    assert run.state == "succeeded"
    assert Resource.objects.filter(kind="access.grant").count() == 1
    assert bob.groups.filter(name="elevated:payments-db:read").count() == 1


def test_a_step_that_loses_its_worker_every_time_gives_up(
    engine_template, submit_request, on_commit, settings
):
    run = started_run(engine_template, submit_request, grant_step())
    only = steps_of(run)[0]
    limit = settings.PROVISION_MAX_RETRIES + 1 + 3
    RunStep.objects.filter(pk=only.pk).update(state="running", attempts=limit)
    with on_commit():
        runner.step_execute(step_id=only.pk)
    only.refresh_from_db()
    assert only.state == "failed" and "without an answer" in only.error
    run.refresh_from_db()
    assert run.state == "rolled_back"


def test_a_second_delivery_waits_while_a_live_attempt_holds_the_step(
    engine_template, submit_request
):
    run = started_run(engine_template, submit_request, grant_step())
    only = steps_of(run)[0]
    held = _hold_claim(only.pk)
    try:
        assert runner.step_execute(step_id=only.pk) == runner.CLAIM_POLL_SECONDS
        only.refresh_from_db()
        assert (only.state, only.attempts) == ("pending", 0)
    finally:
        held()
    assert runner.step_execute(step_id=only.pk) is None
    only.refresh_from_db()
    assert only.state == "succeeded"


def _hold_claim(step_id):
    """Hold a step's claim as another live worker would; returns the release."""
    from django.db import connection

    if connection.vendor != "postgresql":
        assert claims.acquire(step_id)
        return lambda: claims.release(step_id)
    import psycopg
    from django.conf import settings

    db = settings.DATABASES["default"]
    other = psycopg.connect(
        dbname=db["NAME"],
        user=db["USER"],
        password=db["PASSWORD"],
        host=db["HOST"],
        port=db["PORT"],
    )
    key = claims._LOCK_BASE + step_id
    other.execute("SELECT pg_advisory_lock(%s)", [key])

    def release():
        other.execute("SELECT pg_advisory_unlock(%s)", [key])
        other.close()

    return release


def test_cancelling_stops_the_run_and_undoes_what_it_did(
    engine_template, submit_request, on_commit, bob
):
    run = started_run(engine_template, submit_request, grant_step(), namespace_step())
    first, second = steps_of(run)
    runner.step_execute(step_id=first.pk)  # step 1 done; step 2 waits in the queue
    assert bob.groups.filter(name="elevated:payments-db:read").exists()
    with on_commit():
        run_cancel(run=run, actor=bob)
    run.refresh_from_db()
    assert run.state == "cancelled" and run.cancel_requested_at and run.cancelled_by == bob
    assert [(s.step_id, s.operation, s.state) for s in steps_of(run)] == [
        ("grant", "apply", "succeeded"),
        ("ns", "apply", "skipped"),
        ("grant", "undo", "succeeded"),
    ]
    assert not bob.groups.filter(name="elevated:payments-db:read").exists()
    assert run.request.state == "rolled_back"
    assert "cancelled by bob" in run.request.transitions.get(to_state="failed").reason
    assert AuditEvent.objects.filter(action="run.cancel_requested", actor_id=bob.pk).count() == 1


def test_only_owners_cancel_and_only_a_running_run(
    provision, engine_template, submit_request, charlie, bob
):
    run = started_run(engine_template, submit_request, grant_step())
    with pytest.raises(PermissionDenied):
        run_cancel(run=run, actor=charlie)
    runner.step_execute(step_id=steps_of(run)[0].pk)
    run.refresh_from_db()
    with pytest.raises(TransitionNotAllowed, match="this one is succeeded"):
        run_cancel(run=run, actor=bob)


def test_redelivered_provision_messages_find_the_same_run(engine_template, submit_request):
    run = started_run(engine_template, submit_request, grant_step())
    again = run_start_provision(request_id=run.request_id)
    assert again.pk == run.pk and ProvisioningRun.objects.count() == 1
    assert RunStep.objects.count() == 1


def test_an_input_that_does_not_fit_the_action_fails_without_retrying(provision, engine_template):
    engine_template(
        step("ns", "kubernetes.namespace", name="x", cpu_millicores="${{ parameters.name }}")
    )
    request = provision()
    failed = request.runs.get().steps.get(operation="apply")
    assert failed.state == "failed" and failed.attempts == 1
    assert "cpu_millicores" in failed.error and request.state == "rolled_back"


def test_an_unknown_user_cannot_get_a_grant(provision, engine_template):
    engine_template(
        step("grant", "access.grant", subject="nobody", system="x", role="read", duration="1h")
    )
    request = provision()
    failed = request.runs.get().steps.get(operation="apply")
    assert "no active user 'nobody'" in failed.error
    assert not Group.objects.filter(name="elevated:x:read").exists()


@pytest.mark.parametrize("error", [OperationalError("deadlock detected"), InterfaceError("gone")])
def test_a_database_error_in_a_step_goes_back_to_the_broker(monkeypatch, settings, error):
    # Mocked fault: a deadlock or a dropped connection at a chosen moment of a step cannot be
    # caused on demand here (the load bench and the PostgreSQL drill cause them for real); the
    # broker is left out too: `retry` records what it would send.
    from provisioning import tasks

    def failing(*, step_id, retries):
        raise error

    sent = []

    def retry(**options):
        sent.append(options)
        return RuntimeError("retried")

    monkeypatch.setattr(tasks.runner, "step_execute", failing)
    monkeypatch.setattr(tasks.run_step, "retry", retry)
    settings.PROVISION_RETRY_DELAY = 2
    tasks.run_step.push_request(is_eager=False, retries=2)
    try:
        with pytest.raises(RuntimeError, match="retried"):
            tasks.run_step.run(123)
    finally:
        tasks.run_step.pop_request()
    assert 4 <= sent[0]["countdown"] <= 8  # half of 2 s × 2², plus jitter up to the other half
