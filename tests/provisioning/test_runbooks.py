"""Runbooks: definitions are linted like templates; a run is validated, guarded by the catalog's
policies and, when high risk, waits for another on-call engineer's approval; it runs through
the engine, verifies its effect (a step's output, or PromQL in a real Prometheus) and records
success or failure for the remediation metric."""

import copy
import uuid

import pytest
import redis
from django.core.exceptions import PermissionDenied

from audit.models import AuditEvent
from catalog.importer import catalog_import
from catalog.models import PolicyDecision
from catalog.services import RequestInvalid
from provisioning.models import Runbook, RunbookRun
from provisioning.runbook_spec import lint_runbook
from provisioning.services import (
    runbook_publish,
    runbook_run_approve,
    runbook_run_reject,
    runbook_run_start,
)
from tests.helpers import RUNBOOKS

pytestmark = pytest.mark.django_db

REDIS_URL = "redis://127.0.0.1:6379/12"

DOCUMENT = {
    "apiVersion": "catalog.ssops.dev/v1",
    "kind": "Runbook",
    "metadata": {"name": "ping-service", "title": "Ping a service"},
    "spec": {
        "owner": "payments",
        "version": "1.0.0",
        "riskTier": "low",
        "parameters": {
            "type": "object",
            "required": ["service"],
            "properties": {
                "service": {"type": "string", "pattern": "^[a-z-]+$"},
                "environment": {"type": "string", "enum": ["dev", "prod"], "default": "dev"},
            },
        },
        "steps": [
            {
                "id": "ping",
                "action": "webhook.post",
                "input": {"url": "URL", "body": {"service": "${{ parameters.service }}"}},
            }
        ],
        "verify": {
            "output": {"step": "ping", "field": "status"},
            "expect": {"op": "==", "value": 200},
        },
    },
}


def publish_runbook(url="http://127.0.0.1:1/hook", **spec):
    document = copy.deepcopy(DOCUMENT)
    document["spec"]["steps"][0]["input"]["url"] = url
    document["spec"].update(spec)
    parsed, errors = lint_runbook(document)
    assert errors == [], errors
    return runbook_publish(actor=None, spec=parsed)[0]


@pytest.fixture
def cache(settings):
    settings.RUNBOOK_REDIS_URL = REDIS_URL
    client = redis.Redis.from_url(REDIS_URL)
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    yield client, prefix
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)
    client.close()


@pytest.fixture
def shipped(db):
    assert catalog_import(actor=None, paths=[RUNBOOKS]).ok
    return {r.slug: r for r in Runbook.objects.all()}


def test_the_shipped_runbooks_import_and_each_says_how_it_is_verified(shipped):
    assert set(shipped) == {
        "flush-cache",
        "toggle-feature-flag",
        "scale-deployment",
        "restart-deployment",
    }
    assert all(r.verify.get("promql") or r.verify.get("output") for r in shipped.values())
    assert shipped["scale-deployment"].risk_tier == "high"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"verify": None}, "spec.verify: is required"),
        ({"verify": {"promql": "up", "expect": {"op": "~", "value": 1}}}, "spec.verify.expect.op"),
        (
            {
                "verify": {
                    "output": {"step": "nope", "field": "x"},
                    "expect": {"op": "==", "value": 1},
                }
            },
            "spec.verify.output.step",
        ),
        (
            {"verify": {"promql": "up", "within": "soon", "expect": {"op": "<", "value": 1}}},
            "within",
        ),
        (
            {"verify": {"promql": "up", "within": "24h", "expect": {"op": "<", "value": 1}}},
            "spec.verify.within: must be between 10 s and 21600 s",
        ),
        (
            {"verify": {"promql": "up", "every": "1s", "expect": {"op": "<", "value": 1}}},
            "spec.verify.every: must be between 5 s and 3600 s",
        ),
        (
            {
                "verify": {
                    "promql": "up",
                    "within": "1m",
                    "every": "5m",
                    "expect": {"op": "<", "value": 1},
                }
            },
            "spec.verify.every: must not be longer than within",
        ),
        ({"steps": [{"id": "x", "action": "runbook.flush-cache", "input": {}}]}, "target"),
    ],
)
def test_a_bad_runbook_is_refused_with_the_field(change, message):
    document = copy.deepcopy(DOCUMENT)
    document["spec"].update(change)
    spec, errors = lint_runbook(document)
    assert spec is None and any(message in str(e) for e in errors), errors


@pytest.mark.redis
def test_on_call_flushes_a_cache_and_the_run_is_verified(shipped, cache, oncall, on_commit):
    client, prefix = cache
    for n in range(30):
        client.set(f"{prefix}:sessions:{n}", "x")
    client.set(f"{prefix}:keep", "x")
    with on_commit():
        run = runbook_run_start(
            actor=oncall, runbook="flush-cache", parameters={"pattern": f"{prefix}:sessions:*"}
        )
    run.refresh_from_db()
    assert run.state == "succeeded" and run.by_oncall and run.finished_at
    assert run.verification["passed"] is True and run.verification["observed"] == 0
    assert client.exists(f"{prefix}:keep") and not list(client.scan_iter(f"{prefix}:sessions:*"))
    step = run.run.steps.get()
    assert step.output["deleted"] == 30
    assert list(run.transitions.values_list("to_state", flat=True)) == [
        "running",
        "verifying",
        "succeeded",
    ]
    events = AuditEvent.objects.filter(object_id=str(run.uuid)).values_list("action", flat=True)
    assert set(events) == {"runbook_run.running", "runbook_run.verifying", "runbook_run.succeeded"}


@pytest.mark.redis
def test_a_run_whose_effect_is_not_there_fails_verification(shipped, cache, oncall, on_commit):
    client, prefix = cache
    client.set(f"{prefix}:a", "x")
    with on_commit():
        run = runbook_run_start(
            actor=oncall,
            runbook="flush-cache",
            parameters={"pattern": f"{prefix}:*", "dry_run": True},
        )
    run.refresh_from_db()
    assert run.state == "failed" and run.verification["passed"] is False
    assert run.error == "not verified: flush.remaining = 1; expected == 0"
    assert client.exists(f"{prefix}:a")


def test_high_risk_waits_for_another_on_call_engineer(shipped, oncall, on_commit, db):
    from tests.factories import user_in_group

    peer = user_in_group("peer", "oncall")
    run = runbook_run_start(
        actor=oncall,
        runbook="scale-deployment",
        parameters={"deployment": "api", "namespace": "payments", "replicas": 4},
    )
    assert run.state == "pending_approval" and run.required_approvals == 1 and run.run is None
    with pytest.raises(PermissionDenied):
        runbook_run_approve(actor=oncall, runbook_run=run)
    with on_commit():
        runbook_run_approve(actor=peer, runbook_run=run, comment="go")
    run.refresh_from_db()
    # No cluster here: the action fails plainly and the run records a failure.
    assert run.state == "failed" and "SSOPS_KUBECONFIG" in run.error
    assert run.approvals.get().approver == peer
    assert AuditEvent.objects.filter(action="runbook_run.approval_approved").count() == 1


def test_a_rejection_needs_a_reason_and_ends_the_run(shipped, oncall, db):
    from tests.factories import user_in_group

    peer = user_in_group("peer", "oncall")
    run = runbook_run_start(
        actor=oncall,
        runbook="scale-deployment",
        parameters={"deployment": "api", "namespace": "payments", "replicas": 2},
    )
    with pytest.raises(RequestInvalid):
        runbook_run_reject(actor=peer, runbook_run=run, comment=" ")
    runbook_run_reject(actor=peer, runbook_run=run, comment="wrong service")
    run.refresh_from_db()
    assert run.state == "rejected" and run.finished_at


def test_policies_guard_runbooks(oncall, demo_policies, receiver, api_as, platform_admin):
    publish_runbook(receiver.script("/ping", 200))
    run = runbook_run_start(
        actor=oncall,
        runbook="ping-service",
        parameters={"service": "checkout", "environment": "prod"},
        justification="now",
    )
    assert run.state == "denied" and run.run is None
    assert "justification of at least 20 characters" in run.deny_reasons[0]
    assert PolicyDecision.objects.filter(runbook_runs=run).count() == 5  # every shipped policy
    assert receiver.received == []
    # Through the API they guard no request: `request` is null, as the schema says.
    listed = api_as(platform_admin).get("/api/policy-decisions/").json()["results"]
    assert [d["request"] for d in listed] == [None] * 5


def test_a_webhook_runbook_is_verified_by_the_answer(oncall, receiver, on_commit, team):
    publish_runbook(receiver.script("/ping", 200))
    with on_commit():
        run = runbook_run_start(
            actor=oncall, runbook="ping-service", team="payments", parameters={"service": "api"}
        )
    run.refresh_from_db()
    assert run.state == "succeeded" and run.team == team
    assert receiver.posts("/ping")[0]["headers"]["X-SSOps-Request"] == str(run.uuid)


def test_who_may_run_and_bad_input_changes_nothing(bob, charlie, team, receiver, on_commit):
    publish_runbook(receiver.script("/ping", 200))
    with pytest.raises(PermissionDenied):
        runbook_run_start(
            actor=charlie, runbook="ping-service", team=team, parameters={"service": "a"}
        )
    with pytest.raises(RequestInvalid) as invalid:
        runbook_run_start(
            actor=bob, runbook="ping-service", team=team, parameters={"service": "A!"}
        )
    assert "parameters.service" in invalid.value.errors
    with pytest.raises(RequestInvalid):
        runbook_run_start(actor=bob, runbook="no-such", team=team, parameters={})
    assert RunbookRun.objects.count() == 0
    with on_commit():
        run = runbook_run_start(
            actor=bob, runbook="ping-service", team=team, parameters={"service": "a"}
        )
    run.refresh_from_db()
    assert run.state == "succeeded" and not run.by_oncall


@pytest.mark.prometheus
def test_a_promql_check_verifies_the_effect_in_prometheus(
    oncall, receiver, on_commit, prometheus_factory, settings
):
    server = prometheus_factory(with_workload=False)
    settings.PROMETHEUS_URL = server.url
    publish_runbook(
        receiver.script("/ping", 200),
        verify={"promql": "vector(1) * 0 + 42", "expect": {"op": ">=", "value": 40}},
    )
    with on_commit():
        passed = runbook_run_start(
            actor=oncall, runbook="ping-service", parameters={"service": "a"}
        )
    passed.refresh_from_db()
    assert passed.state == "succeeded" and passed.verification["observed"] == 42.0
    publish_runbook(
        receiver.script("/ping", 200),
        version="1.1.0",
        verify={
            "promql": 'absent_metric_total{service="${{ parameters.service }}"}',
            "expect": {"op": "==", "value": 0},
        },
    )
    with on_commit():
        unanswered = runbook_run_start(
            actor=oncall, runbook="ping-service", parameters={"service": "b"}
        )
    unanswered.refresh_from_db()
    assert unanswered.state == "failed"
    assert unanswered.error == 'not verified: no data yet for absent_metric_total{service="b"}'


def test_without_prometheus_a_promql_check_cannot_pass(oncall, receiver, on_commit, settings):
    settings.PROMETHEUS_URL = ""
    publish_runbook(
        receiver.script("/ping", 200), verify={"promql": "up", "expect": {"op": "==", "value": 1}}
    )
    with on_commit():
        run = runbook_run_start(actor=oncall, runbook="ping-service", parameters={"service": "a"})
    run.refresh_from_db()
    assert run.state == "failed" and "PROMETHEUS_URL is not set" in run.error
