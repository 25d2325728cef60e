"""Error budgets that act, against the session's Prometheus: the checkout outage, recorded as the
beat job records it, pages and freezes checkout. Its deploy gate answers 409 naming the SLO; the
error-budget-freeze policy denies a medium-risk production change and lets a fix and a
break-glass change through; the gate opens again once the page resolves, or when a platform
admin lifts the freeze; an SLO whose budget is spent freezes too, one without data never does;
`ssops gate` exits 0 or 3."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.test import override_settings

from accounts.services import personal_token_create
from audit.models import AuditEvent
from catalog.choices import ChangeKind
from catalog.services import request_break_glass, request_submit
from catalog.services.approvals import request_approve
from catalog.services.transitions import TransitionNotAllowed
from slo.models import SLO
from ssops_cli.main import main
from tests.catalog.conftest import demo_policies, demo_templates  # noqa: F401 (fixtures)
from tests.slo import workload
from tests.slo.conftest import slo_import, workload_slos  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.prometheus, pytest.mark.django_db]

DURING = workload.OUTAGE[0] + 600  # the outage pages
AFTER = workload.END  # the page has resolved; budget is left
RESTART = "restart-deployment"
JUSTIFICATION = "roll the new config out to every checkout pod"


def record(at: float) -> None:
    """slo_evaluate --record at `at`: what the beat job stores every minute."""
    moment = datetime.fromtimestamp(at, UTC).isoformat()
    call_command("slo_evaluate", "--record", "--at", moment, stdout=io.StringIO())


@pytest.fixture
def checkout_slos(settings, prometheus, workload_slos, demo_templates, demo_policies):  # noqa: F811
    """checkout with its availability SLO alone: the workload's other checkout SLOs (one per
    instance, one in time slices whose budget is spent) would keep it frozen throughout."""
    settings.PROMETHEUS_URL = prometheus.url
    SLO.objects.filter(service__name="checkout").exclude(name="checkout-availability").delete()
    return SLO.objects.filter(service__name="checkout")


def restart(actor, team, environment="prod", **kwargs):
    return request_submit(
        actor=actor,
        template=RESTART,
        team=team,
        parameters={"deployment": "checkout", "namespace": "shop", "environment": environment},
        justification=JUSTIFICATION,
        **kwargs,
    )


def test_the_outage_freezes_checkout_and_its_gate_answers_409(checkout_slos, api_as, bob):
    record(DURING)
    answer = api_as(bob).get("/api/gates/checkout/")
    assert answer.status_code == 409
    body = answer.json()
    assert body["open"] is False and body["service"] == "checkout"
    assert body["reasons"] == ["SLO checkout-availability is paging (error budget burning fast)"]
    standing = {slo["name"]: slo for slo in body["slos"]}
    assert "page" in standing["checkout-availability"]["firing"]
    assert standing["checkout-availability"]["freezes"] is True
    record(AFTER)  # the page resolved: the gate opens
    reopened = api_as(bob).get("/api/gates/checkout/")
    assert reopened.status_code == 200 and reopened.json()["open"] is True
    assert "reasons" not in reopened.json()


def test_a_frozen_service_denies_a_medium_risk_change_and_lets_a_fix_through(
    checkout_slos, bob, team
):
    record(DURING)
    held = restart(bob, team)
    assert held.state == "denied" and held.risk_tier == "medium"  # production-changes raised it
    (reason,) = [r for r in held.deny_reasons if "error-budget-freeze" in r]
    assert "checkout is frozen" in reason and "checkout-availability" in reason
    fix = restart(bob, team, change_kind=ChangeKind.FIX)
    assert fix.state == "pending_approval" and fix.change_kind == "fix"
    assert any("goes through as a fix" in w for w in fix.warnings)
    staging = restart(bob, team, environment="staging")
    assert staging.state != "denied"  # a freeze holds production only


def test_a_break_glass_change_goes_through_and_only_break_glass_approves_it(
    checkout_slos, bob, carol, team, platform_admin
):
    record(DURING)
    urgent = restart(bob, team, change_kind=ChangeKind.BREAK_GLASS)
    assert urgent.state == "pending_approval"
    with pytest.raises(TransitionNotAllowed, match="break-glass"):
        request_approve(request=urgent, actor=carol)
    approved = request_break_glass(
        request=urgent, actor=platform_admin, reason="checkout is down: restart to recover"
    )
    assert approved.break_glass and approved.state in {"provisioning", "ready"}


def test_the_policy_sees_the_services_slos(checkout_slos, bob, team, make_policy):
    record(DURING)
    make_policy(
        "echo-service",
        'warn contains sprintf("%s %s %v %s", [input.service.name, input.service.environment, '
        "input.service.frozen, input.request.risk_tier])",
    )
    request = restart(bob, team, change_kind=ChangeKind.FIX)
    assert "checkout prod true medium (policy echo-service)" in request.warnings


def test_a_platform_admin_lifts_the_freeze_for_a_while(
    checkout_slos, api_as, bob, team, platform_admin
):
    record(DURING)
    refused = api_as(bob).post(
        "/api/gates/checkout/override/", {"hours": 2, "reason": "the fix ships now"}, format="json"
    )
    assert refused.status_code == 403
    lifted = api_as(platform_admin).post(
        "/api/gates/checkout/override/",
        {"hours": 2, "reason": "the fix for the outage ships in this release"},
        format="json",
    )
    assert lifted.status_code == 201 and lifted.json()["created_by"] == "padmin"
    assert AuditEvent.objects.filter(action="slo.freeze.overridden").count() == 1
    assert api_as(bob).get("/api/gates/checkout/").status_code == 200
    request = restart(bob, team)
    assert request.state == "pending_approval"
    assert any("freeze is lifted until" in w for w in request.warnings)
    ended = api_as(platform_admin).delete("/api/gates/checkout/override/")
    assert ended.status_code == 204
    assert api_as(bob).get("/api/gates/checkout/").status_code == 409


def test_a_spent_budget_freezes_and_missing_data_only_warns(
    checkout_slos,
    slo_import,  # noqa: F811 (the fixture)
    api_as,
    bob,
):
    # The same counters against 99.999 %: the outage spends that budget many times over.
    slo_import(
        """
apiVersion: openslo/v1
kind: SLO
metadata: {name: checkout-strict, labels: {team: payments}}
spec:
  service: checkout
  indicator:
    spec:
      ratioMetric:
        counter: true
        bad:
          metricSource:
            type: Prometheus
            spec: {query: 'http_requests_total{service="checkout",code="500"}'}
        total:
          metricSource: {type: Prometheus, spec: {query: 'http_requests_total{service="checkout"}'}}
  timeWindow: [{duration: 30d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{target: 0.99999}]
---
apiVersion: openslo/v1
kind: SLO
metadata: {name: checkout-ghost, labels: {team: payments}}
spec:
  service: checkout
  indicator:
    spec:
      ratioMetric:
        counter: true
        bad: {metricSource: {type: Prometheus, spec: {query: 'ghost_total{code="500"}'}}}
        total: {metricSource: {type: Prometheus, spec: {query: ghost_total}}}
  timeWindow: [{duration: 30d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{target: 0.999}]
""",
        name="more.yaml",
    )
    record(AFTER)
    body = api_as(bob).get("/api/gates/checkout/").json()
    assert body["open"] is False
    (reason,) = body["reasons"]
    assert reason.startswith("SLO checkout-strict has spent its error budget (-")
    ghost = next(slo for slo in body["slos"] if slo["name"] == "checkout-ghost")
    assert ghost["data_status"] == "no_data" and ghost["freezes"] is False


def test_the_gate_hides_services_from_outsiders(checkout_slos, api_as, charlie, bob):
    record(AFTER)
    assert api_as(charlie).get("/api/gates/checkout/").status_code == 404
    assert api_as(bob).get("/api/gates/nope/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_ssops_gate_exits_0_when_open_and_3_when_frozen(
    checkout_slos, live_server, bob, monkeypatch, capsys
):
    monkeypatch.setenv("SSOPS_URL", live_server.url)
    token = personal_token_create(actor=bob, name="ci", scopes=["read"])
    monkeypatch.setenv("SSOPS_TOKEN", str(token.key))
    record(DURING)
    assert main(["gate", "checkout"]) == 3
    out = capsys.readouterr().out
    assert "checkout: FROZEN" in out and "checkout-availability is paging" in out
    record(AFTER)
    assert main(["gate", "checkout"]) == 0
    assert "checkout: open" in capsys.readouterr().out
    assert main(["gate", "nope"]) == 1


@override_settings(SSOPS_BASE_URL="http://testserver")
def test_the_request_form_shows_the_freeze_before_submission(checkout_slos, client, bob):
    record(DURING)
    client.force_login(bob)
    page = client.get(
        f"/catalog/{RESTART}/request/freeze/",
        {"param_deployment": "checkout", "param_environment": "prod"},
    ).content.decode()
    assert 'data-frozen="true"' in page and "checkout is frozen" in page
    assert "checkout-availability is paging" in page
    quiet = client.get(
        f"/catalog/{RESTART}/request/freeze/", {"param_deployment": "ledger"}
    ).content.decode()
    assert "ledger is not frozen" in quiet
