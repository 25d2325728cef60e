"""Policies on requests: enforce denies, warn warns, dry-run is decided and logged only; a
broken policy denies (fail closed); each decision is stored; platform admins edit them."""

import logging

import pytest
from django.core.exceptions import ValidationError

from audit.models import AuditEvent
from catalog.models import Policy, PolicyDecision, Reservation
from catalog.services import policy_save

pytestmark = pytest.mark.django_db

NO_BIG = 'deny contains "cpu over 1000 needs a bigger quota" if input.request.parameters.cpu > 1000'


def test_an_enforced_policy_denies_with_its_reason(widget, submit, make_policy):
    make_policy("cpu-cap", NO_BIG)
    request = submit(parameters={"name": "big", "cpu": 2000})
    assert request.state == "denied"
    assert request.deny_reasons == ["cpu over 1000 needs a bigger quota (policy cpu-cap)"]
    assert not Reservation.objects.exists()
    assert submit(parameters={"name": "small", "cpu": 500}).state == "provisioning"


def test_a_warn_policy_warns_and_lets_the_request_through(widget, submit, make_policy):
    make_policy("cpu-cap", NO_BIG, mode="warn")
    request = submit(parameters={"name": "big", "cpu": 2000})
    assert request.state == "provisioning"
    assert request.warnings == ["cpu over 1000 needs a bigger quota (policy cpu-cap, warn only)"]


def test_a_dry_run_policy_is_decided_and_logged_but_not_enforced(
    widget, submit, make_policy, caplog
):
    make_policy("cpu-cap", NO_BIG, mode="dry_run")
    with caplog.at_level(logging.INFO, logger="catalog.services.policies"):
        request = submit(parameters={"name": "big", "cpu": 2000})
    assert request.state == "provisioning" and request.warnings == [] and not request.deny_reasons
    decision = PolicyDecision.objects.get(request=request)
    assert (decision.mode, decision.outcome, decision.enforced) == ("dry_run", "deny", False)
    assert decision.deny == ["cpu over 1000 needs a bigger quota"]
    logged = [r for r in caplog.records if r.getMessage() == "policy dry-run decision"]
    assert logged and logged[0].policy == "cpu-cap" and logged[0].outcome == "deny"


def test_a_policy_that_errors_at_run_time_denies_with_a_clear_reason(widget, submit, make_policy):
    make_policy("conflicting", 'risk_tier := "low" if true\nrisk_tier := "high" if true')
    request = submit()
    assert request.state == "denied"
    (reason,) = request.deny_reasons
    assert reason.startswith("policy conflicting (v1) failed at run time: complete rules must not")
    assert reason.endswith("the request is denied because policies fail closed")
    assert PolicyDecision.objects.get(request=request).outcome == "error"


def test_a_stored_module_that_no_longer_compiles_denies(widget, submit, make_policy):
    policy = make_policy("fine", 'warn contains "ok" if true')
    policy.current_version.source = "package t\ndeny contains msg if { msg := }"
    policy.current_version.save()
    request = submit()
    assert request.state == "denied"
    assert "policy fine (v1) does not compile" in request.deny_reasons[0]


def test_a_warn_policy_that_errors_only_warns(widget, submit, make_policy):
    make_policy(
        "conflicting", 'risk_tier := "low" if true\nrisk_tier := "high" if true', mode="warn"
    )
    request = submit()
    assert request.state == "provisioning"
    assert "failed at run time" in request.warnings[0]


def test_an_enforced_policy_raises_the_risk_tier(widget, submit, make_policy):
    make_policy("prod", 'risk_tier := "high" if input.request.parameters.name == "prod-db"')
    request = submit(parameters={"name": "prod-db"})
    assert (request.state, request.risk_tier, request.required_approvals) == (
        "pending_approval",
        "high",
        2,
    )


def test_every_decision_is_stored_with_version_digest_and_latency(widget, submit, demo_policies):
    request = submit(parameters={"name": "payments-one"})
    decisions = PolicyDecision.objects.filter(request=request)
    assert decisions.count() == 5
    assert len({d.input_digest for d in decisions}) == 1
    for decision in decisions:
        assert decision.policy_version.number == 1 and 0 < decision.latency_ms < 50
        assert len(decision.input_digest) == 64


def test_the_policy_sees_request_user_team_template_and_usage(widget, submit, make_policy, bob):
    make_policy(
        "echo",
        'warn contains sprintf("%s %s %s %s %d %d", [input.user.username, input.team.slug, '
        "input.template.name, input.user.team_role, input.usage.resource.used.count, "
        "input.request.ttl_hours])",
    )
    submit()
    assert submit().warnings == ["bob payments widget member 1 24 (policy echo)"]


def test_saving_makes_versions_and_refuses_broken_modules_or_failing_examples(platform_admin):
    policy, changed = policy_save(
        actor=platform_admin, slug="p", title="P", source=f"package p\n{NO_BIG}"
    )
    assert changed and policy.current_version.number == 1
    assert (
        policy_save(actor=platform_admin, slug="p", title="P", source=f"package p\n{NO_BIG}")[1]
        is False
    )
    policy, _ = policy_save(
        actor=platform_admin, slug="p", title="P", mode="warn", source=f"package p\n{NO_BIG}"
    )
    assert policy.current_version.number == 2 and policy.mode == "warn"
    with pytest.raises(ValidationError, match="does not compile"):
        policy_save(actor=platform_admin, slug="p", title="P", source="package p\ndeny[")
    failing = [
        {
            "name": "x",
            "input": {"request": {"parameters": {"cpu": 5000}}},
            "expect": {"allow": True},
        }
    ]
    with pytest.raises(ValidationError, match="example 'x': expected allow True, got False"):
        policy_save(
            actor=platform_admin,
            slug="p",
            title="P",
            source=f"package p\n{NO_BIG}",
            examples=failing,
        )
    assert Policy.objects.get(slug="p").current_version.number == 2
    events = AuditEvent.objects.filter(action__startswith="policy.").order_by("seq")
    assert [e.action for e in events] == ["policy.created", "policy.updated"]
    assert "source" not in events[0].payload


SOURCE = f"package api\n\nimport rego.v1\n\n{NO_BIG}\n"


def test_platform_admins_edit_policies_through_the_api(api_as, platform_admin):
    api = api_as(platform_admin)
    created = api.post(
        "/api/policies/",
        {"slug": "api-made", "title": "Made", "mode": "warn", "source": SOURCE, "examples": []},
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert created.json()["version"] == 1 and created.json()["mode"] == "warn"
    changed = api.patch("/api/policies/api-made/", {"mode": "enforce"}, format="json")
    assert changed.json()["version"] == 2 and changed.json()["mode"] == "enforce"
    broken = api.patch("/api/policies/api-made/", {"source": "package x\ndeny["}, format="json")
    assert broken.status_code == 400 and "does not compile" in str(broken.json())
    verdict = api.post(
        "/api/policies/api-made/evaluate/",
        {"input": {"request": {"parameters": {"cpu": 4000}}}},
        format="json",
    )
    assert verdict.json()["deny"] == ["cpu over 1000 needs a bigger quota"]


def test_others_read_policies_but_cannot_change_them(api_as, bob, make_policy):
    make_policy("readable", NO_BIG)
    api = api_as(bob)
    assert "cpu over 1000" in api.get("/api/policies/readable/").json()["source"]
    assert api.get("/api/policies/").status_code == 200
    assert (
        api.patch("/api/policies/readable/", {"mode": "dry_run"}, format="json").status_code == 403
    )
    assert (
        api.post(
            "/api/policies/", {"slug": "x", "title": "x", "source": SOURCE}, format="json"
        ).status_code
        == 403
    )
    assert (
        api.post("/api/policies/readable/evaluate/", {"input": {}}, format="json").status_code
        == 403
    )


def test_decisions_are_listed_for_those_who_may_see_them(
    api_as, widget, submit, make_policy, charlie, executive
):
    make_policy("cpu-cap", NO_BIG)
    submit(parameters={"name": "big", "cpu": 2000})
    assert api_as(executive).get("/api/policy-decisions/?outcome=deny").json()["count"] == 1
    assert api_as(charlie).get("/api/policy-decisions/").json()["count"] == 0
