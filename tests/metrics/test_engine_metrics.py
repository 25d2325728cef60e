"""The metrics that read the provisioning engine's records — runbook runs (M6, M9), resources
(M8's ResourceId join), orphan findings (M10), run and resource transitions (M11) — against
values worked out by hand."""

from datetime import timedelta

import pytest
from django.core.management import call_command

from audit.services import audit_record
from catalog.models import Request
from metrics import calculations as calc
from metrics import catalogue, tasks
from metrics.compute import metric_compute
from metrics.models import AuditGap, OncallAction
from metrics.periods import period_containing
from metrics.services import incident_open
from provisioning.models import (
    OrphanFinding,
    ProvisioningRun,
    Resource,
    ResourceTransition,
    Runbook,
    RunbookApproval,
    RunbookRun,
    RunbookRunTransition,
    RunStep,
    RunTransition,
)
from tests.metrics.conftest import AFTER, DAY, moment
from tests.metrics.focus_files import charge, focus_csv

pytestmark = pytest.mark.django_db

PERIOD = period_containing("day", DAY)


def figures(key: str):
    outcome = metric_compute(key, PERIOD, AFTER)
    return outcome, {(f.team_id, f.dimension): f for f in outcome.figures}


@pytest.fixture
def runbooks(db):
    return {
        slug: Runbook.objects.create(
            slug=slug, version="1.0.0", title=slug.title(), risk_tier="low", digest=slug
        )
        for slug in ("restart", "rotate")
    }


def run_of(runbook, *, actor, team, state, started, finished=None, by_oncall=True):
    return RunbookRun.objects.create(
        runbook=runbook,
        runbook_version="1.0.0",
        team=team,
        actor=actor,
        by_oncall=by_oncall,
        risk_tier="low",
        state=state,
        started_at=started,
        finished_at=finished,
    )


@pytest.fixture
def runs(runbooks, oncall, bob, team, other_team):
    """7 January: restart succeeded twice and failed once (payments), rotate succeeded once
    (search); one restart still running; one finished the next day; one run by bob (not
    on-call)."""
    restart, rotate = runbooks["restart"], runbooks["rotate"]
    for state, hour in (("succeeded", 1), ("succeeded", 2), ("failed", 3)):
        run_of(
            restart,
            actor=oncall,
            team=team,
            state=state,
            started=moment(hour),
            finished=moment(hour, 5),
        )
    run_of(
        rotate,
        actor=oncall,
        team=other_team,
        state="succeeded",
        started=moment(4),
        finished=moment(4, 5),
    )
    run_of(restart, actor=oncall, team=team, state="running", started=moment(5))
    run_of(
        restart,
        actor=oncall,
        team=team,
        state="succeeded",
        started=moment(23, 58),
        finished=moment(24, 1),
    )
    run_of(
        restart,
        actor=bob,
        team=team,
        state="succeeded",
        started=moment(6),
        finished=moment(6, 1),
        by_oncall=False,
    )


def test_m6_successful_runbook_runs_over_attempts(runs, team):
    _, got = figures("M6")
    assert got[None, "restart"].value == pytest.approx(3 / 4)  # bob's run counts too
    assert got[None, "rotate"].value == 1.0
    assert got[None, ""].value == pytest.approx(4 / 5)
    assert got[team.pk, ""].extras == {"attempts": 4, "succeeded": 3, "failed": 1}


def test_m9_runbook_runs_by_oncall_over_all_oncall_actions(runs, oncall):
    incident = incident_open(actor=oncall, title="queue stuck")
    for hour in (7, 8):
        OncallAction.objects.create(
            incident=incident,
            actor=oncall,
            description="by hand",
            performed_at=moment(hour),
            by_oncall=True,
        )
    (figure,) = figures("M9")[1].values()
    # on-call started six runs that day (the running one and the one ending at 00:01 too)
    assert figure.extras == {"runbook_runs": 6, "manual_actions": 2, "actions": 8}
    assert figure.value == 0.75


@pytest.fixture
def resources(scenario, team, other_team):
    """vm-1 from R1 (payments, widget), db-2 from R4 (search, widget), vm-3 orphaned."""
    made = {}
    for external_id, request in (("vm-1", scenario["R1"]), ("db-2", scenario["R4"])):
        run = ProvisioningRun.objects.create(kind="provision", request=request, template="widget")
        step = RunStep.objects.create(run=run, position=1, step_id="ns", action="kubernetes.ns")
        made[external_id] = Resource.objects.create(
            kind="kubernetes.ns",
            name=external_id,
            external_id=external_id,
            request=request,
            step=step,
            team=request.team,
            requester=request.requester,
            template_version=request.template_version,
        )
    return made


def test_m8_joins_costs_to_resources_by_resource_id(tmp_path, resources, team, other_team):
    rows = [
        charge(7, "10", resource="vm-1"),  # no tags: joined by ResourceId
        charge(7, "6", resource="db-2", tags={"owner": "payments"}),  # the resource wins
        charge(7, "4", resource="x-9", tags={"owner": "payments"}),  # tags only
    ]
    path = tmp_path / "jan.csv"
    path.write_text(focus_csv(rows))
    call_command("billing_import", str(path))
    outcome, got = figures("M8")
    assert outcome.detail == ""
    assert got[team.pk, "widget"].value == pytest.approx(10 / 2)  # R1 and R2 made ready
    assert got[other_team.pk, "widget"].value == 6.0
    assert got[team.pk, calc.BY_TAGS].extras["cost"] == "4.0000000000"
    assert got[team.pk, ""].value == pytest.approx(14 / 3)  # R1, R2, R3


def test_m10_counts_aged_resources_with_their_age_and_cost(tmp_path, resources, team):
    """Hand-worked, at the end of 7 January (00:00 on the 8th), N = 7 days:

    vm-1   payments' resource, expired 5 January 00:00, not deleted   past expiry, 3 days
    db-2   search's resource, expired 23:30 the 7th                    within the hour: not yet
    lost-9 the orphan scan's, first seen 29 December                   orphaned 10 days
    fresh  the orphan scan's, first seen 01:00 the 7th                 orphaned under 7 days
    old    the orphan scan's, resolved on the 6th                      not orphaned any more
    nobody-1  billed with no owner since 1 January                     7 days
    nobody-2  billed with no owner on the 7th only                     under 7 days
    """
    Resource.objects.filter(pk=resources["vm-1"].pk).update(expires_at=moment(-48))
    Resource.objects.filter(pk=resources["db-2"].pk).update(expires_at=moment(23.5))
    Resource.objects.update(created_at=moment(-24 * 10))
    for name, external_id, seen, resolved in (
        ("lost", "lost-9", moment(-24 * 9), None),
        ("fresh", "fresh-1", moment(1), None),
        ("old", "old-1", moment(-24 * 20), moment(-24)),
    ):
        OrphanFinding.objects.create(
            kind="backend_object",
            backend="kubernetes",
            name=name,
            reason="not in inventory",
            details={"external_id": external_id},
            first_seen_at=seen,
            last_seen_at=seen,
            resolved_at=resolved,
        )
    rows = [
        charge(7, "5", resource="vm-1"),
        charge(7, "3", resource="lost-9"),
        charge(1, "1", resource="nobody-1"),
        charge(7, "2", resource="nobody-1"),
        charge(7, "4", resource="nobody-2"),
    ]
    path = tmp_path / "jan.csv"
    path.write_text(focus_csv(rows))
    call_command("billing_import", str(path))
    outcome, got = figures("M10")
    assert outcome.detail == ""
    expired = got[team.pk, calc.PAST_EXPIRY]
    assert expired.value == 1 and expired.extras["oldest_days"] == 3
    assert expired.extras["costs"] == {"EUR": "5.0000000000"}
    scan = got[None, calc.ORPHAN_SCAN]
    assert scan.value == 1 and scan.extras["oldest_days"] == 10
    no_owner = got[None, calc.NO_OWNER]
    assert no_owner.value == 1 and no_owner.extras["oldest_days"] == 7
    assert no_owner.extras["costs"] == {"EUR": "2.0000000000"}  # the 7th's bill
    overall = got[None, ""]
    assert overall.value == 3 and overall.extras["median_age_days"] == 7
    assert not catalogue.BY_KEY["M10"].verdict(overall.value)  # target: none

    # Deleted on the 6th, vm-1 had not outlived its purpose on the 7th any more.
    Resource.objects.filter(pk=resources["vm-1"].pk).update(deleted_at=moment(-20))
    assert figures("M10")[1][None, ""].value == 2


def test_m11_checks_run_and_resource_transitions_and_names_gaps(scenario, resources):
    run = ProvisioningRun.objects.get(request=scenario["R1"])
    step = run.steps.get()
    good = audit_record(
        action="run.succeeded", obj=run, payload={"from": "running", "to": "succeeded"}
    )
    ok = RunTransition.objects.create(
        run=run, from_state="running", to_state="succeeded", audit_seq=good.seq
    )
    missing = RunTransition.objects.create(
        run=run, step=step, from_state="pending", to_state="running", audit_seq=999_999
    )
    elsewhere = audit_record(action="resource.active", obj=scenario["R2"], payload={"to": "active"})
    wrong = ResourceTransition.objects.create(
        resource=resources["vm-1"], from_state="", to_state="active", audit_seq=elsewhere.seq
    )
    for model, pk in (
        (RunTransition, ok.pk),
        (RunTransition, missing.pk),
        (ResourceTransition, wrong.pk),
    ):
        model.objects.filter(pk=pk).update(created_at=moment(20))
    outcome, got = figures("M11")
    assert got[None, "run"].value == 0.5 and got[None, "resource"].value == 0.0
    problems = tasks.audit_completeness()
    assert (
        f"run transition #{missing.pk} (pending → running) of run step {step.uuid}: "
        f"its audit event #999999 (→ running) is missing"
    ) in problems
    assert any(
        f"resource transition #{wrong.pk}" in p and f"is about {scenario['R2'].uuid}" in p
        for p in problems
    )
    assert AuditGap.objects.filter(kind__in=["run", "resource"]).count() == 2


def test_the_rows_of_m6_list_the_runs(api_as, executive, runs):
    body = api_as(executive).get("/api/platform-metrics/M6/rows/?period=day&at=2026-01-07").json()
    assert body["count"] == 5 and {r["runbook"] for r in body["rows"]} == {"restart", "rotate"}


def test_a_run_counts_in_the_period_it_finished_in(runs):
    outcome = metric_compute("M6", PERIOD.next(), AFTER + timedelta(days=1))
    overall = {(f.team_id, f.dimension): f for f in outcome.figures}[None, ""]
    assert overall.extras["attempts"] == 1  # the restart that ended at 00:01 on 8 January


def test_runbook_run_transitions_and_approvals_are_checked(runs, oncall, carol):
    run = RunbookRun.objects.filter(state="succeeded").first()
    good = audit_record(action="runbook_run.succeeded", obj=run, payload={"to": "succeeded"})
    RunbookRunTransition.objects.create(
        runbook_run=run, from_state="running", to_state="succeeded", audit_seq=good.seq
    )
    unrecorded = RunbookRunTransition.objects.create(
        runbook_run=run, from_state="pending_approval", to_state="running"
    )
    other = audit_record(action="runbook_run.approval_rejected", obj=run, payload={})
    approval = RunbookApproval.objects.create(
        runbook_run=run, approver=carol, decision="approved", audit_seq=other.seq
    )
    for model in (RunbookRunTransition, RunbookApproval):
        model.objects.update(created_at=moment(12))
    _, got = figures("M11")
    assert got[None, "runbook_run"].value == 0.5
    assert got[None, "runbook_approval"].value == 0.0
    problems = tasks.audit_completeness()
    assert (
        f"runbook run transition #{unrecorded.pk} (pending_approval → running) of runbook run "
        f"{run.uuid} has no audit event recorded (audit_seq is empty)"
    ) in problems
    assert (
        f"runbook approval #{approval.pk} (approved) of runbook run {run.uuid}: audit event "
        f"#{other.seq} is runbook_run.approval_rejected on {run.uuid}, expected "
        f"runbook_run.approval_approved on {run.uuid}"
    ) in problems


def test_what_the_provisioning_engine_records_is_all_audited(
    bob, team, widget, django_capture_on_commit_callbacks
):
    """A request provisioned for real (Celery is eager in the tests): its run, steps and
    resource transitions each have their audit event."""
    from django.utils import timezone

    from catalog.services import request_submit

    with django_capture_on_commit_callbacks(execute=True):
        filed = request_submit(
            actor=bob, template="widget", team=team, parameters={"name": "p-one"}
        )
    assert Request.objects.get(pk=filed.pk).state == "ready"
    now = timezone.now()
    outcome = metric_compute("M11", period_containing("day", now), now)
    got = {(f.team_id, f.dimension): f for f in outcome.figures}
    assert {"request", "run", "resource"} <= {dim for _, dim in got}
    assert got[team.pk, "run"].extras["transitions"] >= 2  # the run and its step moved
    assert got[None, ""].value == 1.0 and outcome.detail == ""


def test_the_rows_of_m10_are_what_it_counted(api_as, executive, tmp_path, resources, team):
    OrphanFinding.objects.create(
        kind="owner_gone",
        backend="kubernetes",
        name="vm-1",
        team=team,
        resource=resources["vm-1"],
        reason="owner gone",
        first_seen_at=moment(-24 * 8),
        last_seen_at=moment(2),
    )
    rows = [charge(7, "5", resource="vm-1"), charge(1, "1", resource="n-1")]
    path = tmp_path / "jan.csv"
    path.write_text(focus_csv([*rows, charge(7, "2", resource="n-1")]))
    call_command("billing_import", str(path))
    body = api_as(executive).get("/api/platform-metrics/M10/rows/?period=day&at=2026-01-07")
    rows = sorted(body.json()["rows"], key=lambda r: r["resource_id"])
    assert [(r["source"], r["resource_id"], r["team"], r["age_days"]) for r in rows] == [
        (calc.NO_OWNER, "n-1", None, 7.0),
        (calc.ORPHAN_SCAN, "vm-1", "payments", 9.0),
    ]
