"""Runbooks: publish definitions, run one (validated, guarded by the catalog's policies, an
approval for high risk), follow its engine run, verify its effect and record the outcome —
every state change audited.

    denied | pending_approval ─► running ─► verifying ─► succeeded | failed
                              └► rejected            └► failed (a step failed)
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from catalog import lifecycle
from catalog.choices import ApprovalDecision
from catalog.models import PolicyDecision
from catalog.services.policies import policies_evaluate
from catalog.services.requests import MAX_JUSTIFICATION, RequestInvalid, parameter_errors
from catalog.services.transitions import TransitionNotAllowed
from provisioning import verify
from provisioning.choices import RunbookRunState, RunState
from provisioning.models import (
    ProvisioningRun,
    Runbook,
    RunbookApproval,
    RunbookRun,
    RunbookRunTransition,
)
from provisioning.runbook_spec import RunbookSpec
from provisioning.services.states import Change, first_state, state_change
from teams import permissions
from teams.models import Team

HIGH = "high"


# --- definitions -----------------------------------------------------------------------------


def runbook_conflict(spec: RunbookSpec) -> str:
    existing = Runbook.objects.filter(slug=spec.name).values_list("version", "digest").first()
    if existing and existing[0] == spec.version and existing[1] != spec.digest:
        return (
            f"version {spec.version} of runbook {spec.name} is already published with other "
            "content; bump spec.version"
        )
    return ""


def runbook_publish(*, actor, spec: RunbookSpec, source_path: str = "") -> tuple[Runbook, bool]:
    """Create or update a runbook to this version; (runbook, False) when already identical."""
    with transaction.atomic():
        runbook = Runbook.objects.select_for_update().filter(slug=spec.name).first()
        if runbook is not None and runbook.digest == spec.digest:
            return runbook, False
        conflict = runbook_conflict(spec)
        if conflict:
            raise ValueError(conflict)
        previous = runbook.version if runbook else None
        runbook = runbook or Runbook(slug=spec.name)
        runbook.version = spec.version
        runbook.title, runbook.description = spec.title, spec.description
        runbook.owner, runbook.tags, runbook.risk_tier = spec.owner, list(spec.tags), spec.risk_tier
        runbook.parameters_schema, runbook.steps = spec.parameters, spec.steps
        runbook.verify, runbook.document, runbook.digest = spec.verify, spec.document, spec.digest
        runbook.source_path = source_path
        runbook.full_clean()
        runbook.save()
        audit_record(
            action="runbook.published",
            actor=actor,
            obj=runbook,
            payload={"version": spec.version, "previous": previous, "digest": spec.digest},
        )
    return runbook, True


# --- who may -----------------------------------------------------------------------------------


def can_run(user, team: Team | None) -> bool:
    """On-call and platform admins run any runbook; team members run them for their team."""
    if not user.is_authenticated:
        return False
    return permissions.is_oncall(user) or (
        team is not None and permissions.can_request_for_team(user, team.pk)
    )


def can_approve(user, runbook_run: RunbookRun) -> bool:
    """Another on-call engineer, a platform admin or an approver of the team — never the
    person who asked for the run."""
    if not user.is_authenticated or user.pk == runbook_run.actor_id:
        return False
    return permissions.is_oncall(user) or permissions.is_team_approver(user, runbook_run.team_id)


def _change(runbook_run: RunbookRun, to_state: str, *, actor, reason: str, **payload) -> Change:
    return Change(
        action=f"runbook_run.{to_state}",
        transition=RunbookRunTransition,
        link={"runbook_run": runbook_run},
        actor=actor,
        reason=reason,
        team=runbook_run.team_id,
        payload={
            "runbook": runbook_run.runbook.slug,
            "version": runbook_run.runbook_version,
            "risk_tier": runbook_run.risk_tier,
            "by_oncall": runbook_run.by_oncall,
            **payload,
        },
    )


def _move(runbook_run: RunbookRun, to_state: str, *, actor=None, reason="", fields=None) -> bool:
    change = _change(runbook_run, to_state, actor=actor, reason=reason)
    return state_change(runbook_run, to_state=to_state, change=change, fields=fields)


def _policy_document(*, actor, runbook: Runbook, team: Team | None, parameters, justification):
    return {
        "request": {
            "parameters": parameters,
            "ttl_hours": 0,
            "justification": justification,
            "cost": 0.0,
        },
        "user": {
            "username": actor.get_username(),
            "platform_admin": permissions.is_platform_admin(actor),
            "team_role": permissions.team_role(actor, team.pk if team else None) or "",
            "oncall": permissions.is_oncall(actor),
        },
        "team": {
            "slug": team.slug if team else "",
            "cost_center": team.cost_center if team else "",
        },
        "template": {
            "name": runbook.slug,
            "version": runbook.version,
            "risk_tier": runbook.risk_tier,
            "required_approvals": 1 if runbook.risk_tier == HIGH else 0,
            "cost_monthly": 0.0,
            "currency": "EUR",
            "default_ttl_hours": 0,
            "max_ttl_hours": 0,
            "resources": {"kind": "runbook", "count": 0},
            "tags": sorted({*runbook.tags, "runbook"}),
        },
        "usage": {
            "resource": {"kind": "runbook", "used": {}, "limits": {}},
            "budget": {"period": "", "spent": 0.0, "limit": None, "currency": "EUR"},
        },
        "runbook": {"slug": runbook.slug, "title": runbook.title},
    }


def _resolve(runbook, team) -> tuple[Runbook, Team | None]:
    if not isinstance(runbook, Runbook):
        found = Runbook.objects.filter(slug=str(runbook or ""), enabled=True).first()
        if found is None:
            raise RequestInvalid({"runbook": [f"There is no runbook {runbook!r}."]})
        runbook = found
    if team is not None and not isinstance(team, Team):
        found_team = Team.objects.filter(slug=str(team)).first()
        if found_team is None:
            raise RequestInvalid({"team": [f"There is no team {team!r}."]})
        team = found_team
    return runbook, team


def runbook_run_start(
    *, actor, runbook, team=None, parameters: dict, justification: str = ""
) -> RunbookRun:
    """Validate, evaluate the policies, then deny, wait for an approval (high risk) or start.
    RequestInvalid for bad input (nothing written); PermissionDenied for who may not."""
    runbook, team = _resolve(runbook, team)
    if not can_run(actor, team):
        raise PermissionDenied("On-call, platform admins and the team's members run runbooks.")
    errors = parameter_errors(runbook, parameters)
    if len(justification or "") > MAX_JUSTIFICATION:
        errors["justification"] = [f"Use at most {MAX_JUSTIFICATION} characters."]
    if errors:
        raise RequestInvalid(errors)
    document = _policy_document(
        actor=actor, runbook=runbook, team=team, parameters=parameters, justification=justification
    )
    with transaction.atomic():
        outcome = policies_evaluate(document=document)
        tier = lifecycle.higher_tier(runbook.risk_tier, outcome.risk_tier)
        if outcome.deny:
            state, reason = RunbookRunState.DENIED, "; ".join(outcome.deny)
        elif tier == HIGH:
            state, reason = RunbookRunState.PENDING_APPROVAL, "high risk: needs an approval"
        else:
            state, reason = RunbookRunState.RUNNING, f"{tier} risk: started at once"
        runbook_run = RunbookRun.objects.create(
            runbook=runbook,
            runbook_version=runbook.version,
            definition={
                "parameters": runbook.parameters_schema,
                "steps": runbook.steps,
                "verify": runbook.verify,
            },
            team=team,
            actor=actor,
            by_oncall=permissions.is_oncall(actor),
            parameters=parameters,
            justification=justification,
            risk_tier=tier,
            required_approvals=1 if tier == HIGH else 0,
            state=state,
            deny_reasons=outcome.deny,
            warnings=outcome.warn,
            started_at=timezone.now() if state == RunbookRunState.RUNNING else None,
            finished_at=timezone.now() if state == RunbookRunState.DENIED else None,
        )
        PolicyDecision.objects.bulk_create(outcome.decisions)
        runbook_run.decisions.add(*outcome.decisions)
        change = _change(
            runbook_run,
            state,
            actor=actor,
            reason=reason,
            parameters=parameters,
            decisions=outcome.summary(),
        )
        first_state(runbook_run, change=change)
        if state == RunbookRunState.RUNNING:
            from provisioning.services.runs import run_start_runbook

            run_start_runbook(runbook_run=runbook_run, actor=actor)
    return runbook_run


def _decide(*, actor, runbook_run: RunbookRun, decision: str, comment: str) -> RunbookRun:
    if not can_approve(actor, runbook_run):
        raise PermissionDenied(
            "Another on-call engineer, a platform admin or a team approver decides."
        )
    if decision == ApprovalDecision.REJECTED and not comment.strip():
        raise RequestInvalid({"comment": ["Say why it is rejected."]})
    with transaction.atomic():
        runbook_run = (
            RunbookRun.objects.select_for_update(of=("self",))
            .select_related("runbook")
            .get(pk=runbook_run.pk)
        )
        if runbook_run.state != RunbookRunState.PENDING_APPROVAL:
            raise TransitionNotAllowed(f"the run is {runbook_run.state}, not waiting for approval")
        event = audit_record(
            action=f"runbook_run.approval_{decision}",
            actor=actor,
            obj=runbook_run,
            team=runbook_run.team_id,
            payload={"comment": comment, "runbook": runbook_run.runbook.slug},
        )
        RunbookApproval.objects.create(
            runbook_run=runbook_run,
            approver=actor,
            decision=decision,
            comment=comment,
            audit_seq=event.seq,
        )
        if decision == ApprovalDecision.REJECTED:
            _move(
                runbook_run,
                RunbookRunState.REJECTED,
                actor=actor,
                reason=comment,
                fields={"finished_at": timezone.now()},
            )
            return runbook_run
        _move(
            runbook_run,
            RunbookRunState.RUNNING,
            actor=actor,
            reason="approved",
            fields={"started_at": timezone.now()},
        )
        from provisioning.services.runs import run_start_runbook

        run_start_runbook(runbook_run=runbook_run, actor=actor)
    return runbook_run


def runbook_run_approve(*, actor, runbook_run: RunbookRun, comment: str = "") -> RunbookRun:
    return _decide(
        actor=actor, runbook_run=runbook_run, decision=ApprovalDecision.APPROVED, comment=comment
    )


def runbook_run_reject(*, actor, runbook_run: RunbookRun, comment: str = "") -> RunbookRun:
    return _decide(
        actor=actor, runbook_run=runbook_run, decision=ApprovalDecision.REJECTED, comment=comment
    )


# --- after the engine: verify ---------------------------------------------------------------------


def runbook_run_after_engine(*, run: ProvisioningRun) -> None:
    """Called in the transaction that ends the engine run: verify next, or record the failure."""
    runbook_run = RunbookRun.objects.select_related("runbook").get(run=run)
    if run.state == RunState.SUCCEEDED:
        fields = {"verification": {"started_at": timezone.now().isoformat(), "checks": 0}}
        if _move(
            runbook_run, RunbookRunState.VERIFYING, reason="action done; verifying", fields=fields
        ):
            from provisioning import tasks

            pk = runbook_run.pk
            transaction.on_commit(lambda: tasks.verify_runbook_run.delay(pk), robust=True)
    else:
        _move(
            runbook_run,
            RunbookRunState.FAILED,
            reason=run.error or "a step failed",
            fields={"error": run.error, "finished_at": timezone.now()},
        )


def runbook_run_verify(*, runbook_run_id: int, patient: bool = True) -> float | None:
    """One check. Passed: succeeded. Failed (or still unanswered after `within`, or at once
    when not `patient`): failed. Otherwise the seconds until the next check."""
    from provisioning.runner import render_context
    from provisioning.services.runs import step_outputs

    runbook_run = (
        RunbookRun.objects.select_related("runbook", "run", "team", "actor")
        .filter(pk=runbook_run_id)
        .first()
    )
    if runbook_run is None or runbook_run.state != RunbookRunState.VERIFYING:
        return None
    spec = runbook_run.definition["verify"]
    if "output" in spec:
        check = verify.check_output(spec, step_outputs(runbook_run.run))
    else:
        check = verify.check_promql(
            spec,
            context=render_context(runbook_run.run),
            url=settings.PROMETHEUS_URL,
            timeout=settings.PROMETHEUS_TIMEOUT,
        )
    record = dict(runbook_run.verification)
    record.update(
        checks=record.get("checks", 0) + 1,
        observed=check.observed,
        detail=check.detail,
        expect=spec["expect"],
    )
    started = dt.datetime.fromisoformat(record.get("started_at") or timezone.now().isoformat())
    deadline = started + dt.timedelta(seconds=spec.get("within_seconds") or 0)
    with transaction.atomic():
        if check.passed:
            _move(
                runbook_run,
                RunbookRunState.SUCCEEDED,
                reason=f"verified: {check.detail}",
                fields={"verification": {**record, "passed": True}, "finished_at": timezone.now()},
            )
            return None
        if patient and "promql" in spec and timezone.now() < deadline:
            RunbookRun.objects.filter(pk=runbook_run.pk).update(verification=record)
            return float(spec.get("every_seconds") or 30)
        _move(
            runbook_run,
            RunbookRunState.FAILED,
            reason=f"not verified: {check.detail}",
            fields={
                "verification": {**record, "passed": False},
                "error": f"not verified: {check.detail}",
                "finished_at": timezone.now(),
            },
        )
    return None
