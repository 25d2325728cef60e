"""Provisioning runs and their steps: start, record each attempt, undo, cancel and finish.

Every state change goes through `state_change` (conditional UPDATE, timeline row, audit event,
one transaction). A run moves one step at a time: `_advance` enqueues the next open step on
commit, or ends the run. The run row is locked (SELECT … FOR UPDATE) whenever a step's end
moves the run, so two workers finishing at once cannot both advance it.

    provision: running ─► succeeded (request ready)
                      └► compensating ─► rolled_back | cancelled | failed (leftovers listed)
    teardown:  running ─► succeeded (request deleted) | failed (leftovers listed)
    runbook:   running ─► succeeded (then verified) | failed
"""

from __future__ import annotations

import datetime as dt
import logging

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import audit_record
from catalog import lifecycle
from catalog.actions import action_get
from catalog.choices import RequestState
from catalog.metrics import PROVISION_SECONDS, PROVISION_TOTAL
from catalog.models import Request
from catalog.services.handoff import (
    request_mark_deleted,
    request_mark_failed,
    request_mark_ready,
    request_mark_rolled_back,
)
from catalog.services.quotas import reservation_lock
from catalog.services.transitions import TransitionNotAllowed
from provisioning.alerts import provisioning_failure_alert, provisioning_failures_resolve
from provisioning.base import PermanentError, StepResult
from provisioning.choices import ResourceState, RunKind, RunState, StepOperation, StepState
from provisioning.models import (
    ProvisioningRun,
    Resource,
    ResourceSecret,
    ResourceTransition,
    RunStep,
    RunTransition,
)
from provisioning.models.runs import RUN_OPEN, STEP_FINAL
from provisioning.render import rendered
from provisioning.services.states import Change, first_state, state_change
from teams import permissions

logger = logging.getLogger(__name__)

# A step started this many times more than its retries allow (each start after a lost
# worker counts) fails for good: redelivery after a crash has no retry count of its own.
LOST_ATTEMPTS_ALLOWED = 3
PROVISION_OUTCOME = {
    RunState.SUCCEEDED: "ready",
    RunState.FAILED: "failed",
    RunState.ROLLED_BACK: "rolled_back",
    RunState.CANCELLED: "cancelled",
}


# --- reading ---------------------------------------------------------------------------------


def _request_of(request_id: int, *, lock: bool = False) -> Request | None:
    requests = Request.objects.select_related(
        "team", "requester", "template_version__template", "break_glass_by"
    )
    if lock:
        requests = requests.select_for_update(of=("self",))
    return requests.filter(pk=request_id).first()


def _locked_run(run_id: int) -> ProvisioningRun:
    """The run, locked, with its request and the quota and budget counters that its end may
    give back.

    THE LOCK ORDER, kept here for every writer of a run: the request's row, the run's row, the
    counters, then the audit chain (appended by whatever the caller records next). A run's end
    changes its request (ready, deleted…) after it has appended to the chain, while the
    request's own writers (an extension, a decision) lock the request before they append, and
    a submission takes the counters before the chain too: so none waits for another in reverse
    (a deadlock)."""
    request_id = (
        ProvisioningRun.objects.filter(pk=run_id).values_list("request_id", flat=True).first()
    )
    if request_id is not None:
        _request_of(request_id, lock=True)
    run = (
        ProvisioningRun.objects.select_for_update(of=("self",))
        .select_related("request__team", "request__template_version__template")
        .get(pk=run_id)
    )
    reservation_lock(request_id=run.request_id)
    return run


def _team_of(run: ProvisioningRun):
    if run.request_id:
        return run.request.team_id
    runbook_run = getattr(run, "runbook_run", None)
    return runbook_run.team_id if runbook_run else None


def step_outputs(run: ProvisioningRun) -> dict[str, dict]:
    """Outputs of the run's applied steps, by template step id."""
    return dict(
        run.steps.filter(operation=StepOperation.APPLY, state=StepState.SUCCEEDED).values_list(
            "step_id", "output"
        )
    )


# --- state changes ---------------------------------------------------------------------------


def _run_change(run: ProvisioningRun, to_state: str, *, actor, reason: str, **payload) -> Change:
    return Change(
        action=f"run.{to_state}",
        transition=RunTransition,
        link={"run": run},
        actor=actor,
        reason=reason,
        team=_team_of(run),
        payload={
            "kind": run.kind,
            "template": run.template,
            "request": str(run.request.uuid) if run.request_id else None,
            **payload,
        },
    )


def run_move(run: ProvisioningRun, to_state: str, *, actor=None, reason="", fields=None) -> bool:
    leftovers = (fields or {}).get("leftovers", run.leftovers)
    change = _run_change(run, to_state, actor=actor, reason=reason, leftovers=leftovers)
    return state_change(run, to_state=to_state, change=change, fields=fields)


def step_move(step: RunStep, to_state: str, *, reason="", fields=None) -> bool:
    change = Change(
        action=f"run.step.{to_state}",
        transition=RunTransition,
        link={"run": step.run, "step": step},
        reason=reason,
        team=_team_of(step.run),
        payload={
            "run": str(step.run.uuid),
            "step": step.step_id,
            "action": step.action,
            "operation": step.operation,
            "attempt": (fields or {}).get("attempts", step.attempts),
        },
    )
    return state_change(step, to_state=to_state, change=change, fields=fields)


def _resource_change(resource: Resource, to_state: str, *, actor, reason: str, **payload):
    return Change(
        action=f"resource.{to_state}",
        transition=ResourceTransition,
        link={"resource": resource},
        actor=actor,
        reason=reason,
        team=resource.team_id,
        payload={
            "kind": resource.kind,
            "name": resource.name,
            "request": str(resource.request.uuid),
            **payload,
        },
    )


def resource_move(resource: Resource, to_state: str, *, actor=None, reason="", fields=None):
    change = _resource_change(resource, to_state, actor=actor, reason=reason)
    return state_change(resource, to_state=to_state, change=change, fields=fields)


def _enqueue(step: RunStep) -> None:
    from provisioning import tasks

    step_id = step.pk
    transaction.on_commit(lambda: tasks.run_step.delay(step_id), robust=True)


# --- starting runs ---------------------------------------------------------------------------


def _create_run(*, kind: str, template: str, request=None, actor=None) -> ProvisioningRun:
    return ProvisioningRun.objects.create(
        kind=kind,
        request=request,
        template=template,
        actor=actor if actor is not None and actor.is_authenticated else None,
        state=RunState.RUNNING,
        started_at=timezone.now(),
    )


def _announce(run: ProvisioningRun, *, actor=None, reason: str) -> None:
    steps = [f"{s.operation} {s.step_id} ({s.action})" for s in run.steps.all()]
    first_state(run, change=_run_change(run, run.state, actor=actor, reason=reason, steps=steps))


def _template_steps(run: ProvisioningRun, steps: list[dict]) -> None:
    RunStep.objects.bulk_create(
        RunStep(
            run=run,
            position=index,
            step_id=step["id"],
            name=step.get("name") or step["id"],
            action=step["action"],
            input=step.get("input") or {},
        )
        for index, step in enumerate(steps, start=1)
    )


def run_start_provision(*, request_id: int) -> ProvisioningRun | None:
    """Start (or, for a redelivered message, resume) the provisioning run of a request in
    `provisioning`: one step per template step, the first enqueued on commit."""
    try:
        with transaction.atomic():
            request = _request_of(request_id, lock=True)
            if request is None:
                return None
            run = request.runs.filter(kind=RunKind.PROVISION).first()
            if run is None:
                if request.state != RequestState.PROVISIONING:
                    logger.info(
                        "not provisioning request %s: it is %s", request.uuid, request.state
                    )
                    return None
                version = request.template_version
                run = _create_run(
                    kind=RunKind.PROVISION, template=version.template.slug, request=request
                )
                _template_steps(run, version.steps)
                _announce(run, reason="provisioning started")
            else:
                run = _locked_run(run.pk)
            _advance(run)
    except IntegrityError:  # a concurrent delivery created it first
        return ProvisioningRun.objects.filter(request_id=request_id, kind=RunKind.PROVISION).first()
    return run


def run_start_teardown(*, request_id: int, actor=None, reason: str = "") -> ProvisioningRun | None:
    """Delete what a request created, newest first; the request ends `deleted` when all of it
    is gone. An open teardown is resumed rather than started twice."""
    with transaction.atomic():
        request = _request_of(request_id, lock=True)
        if request is None or request.state not in {
            RequestState.READY,
            RequestState.EXPIRED,
            RequestState.FAILED,
            RequestState.ROLLED_BACK,
        }:
            return None
        if request.runs.filter(kind=RunKind.PROVISION, state__in=RUN_OPEN).exists():
            return None  # its own compensation is still undoing it
        run = request.runs.filter(kind=RunKind.TEARDOWN, state__in=RUN_OPEN).first()
        if run is not None:
            run = _locked_run(run.pk)
            _advance(run)
            return run
        run = _create_run(
            kind=RunKind.TEARDOWN,
            template=request.template_version.template.slug,
            request=request,
            actor=actor,
        )
        held = request.resources.filter(
            state__in=(ResourceState.ACTIVE, ResourceState.DELETE_FAILED)
        ).select_related("step", "request")
        steps = []
        for position, resource in enumerate(held.order_by("-created_at", "-id"), start=1):
            steps.append(
                RunStep(
                    run=run,
                    position=position,
                    step_id=resource.step.step_id,
                    name=f"Delete {resource.kind} {resource.name}",
                    action=resource.kind,
                    operation=StepOperation.DELETE,
                    undoes=resource.step,
                    resource=resource,
                    input=resource.step.input,
                )
            )
        RunStep.objects.bulk_create(steps)
        _announce(run, actor=actor, reason=reason or "teardown started")
        for resource in held:
            resource_move(
                resource, ResourceState.DELETING, actor=actor, reason=reason or "teardown"
            )
        _advance(run)
    return run


def run_start_runbook(*, runbook_run, actor=None) -> ProvisioningRun:
    """The engine part of a runbook run (called by provisioning.services.runbooks)."""
    run = _create_run(
        kind=RunKind.RUNBOOK, template=runbook_run.runbook.slug, actor=actor or runbook_run.actor
    )
    _template_steps(run, runbook_run.definition.get("steps", []))
    runbook_run.run = run
    runbook_run.save(update_fields=["run"])
    _announce(run, actor=actor, reason=f"runbook {runbook_run.runbook.slug} started")
    _advance(_locked_run(run.pk))
    return run


# --- one attempt of one step -----------------------------------------------------------------


def step_begin(*, step_id: int) -> RunStep | None:
    """Mark an attempt as started (audited) and return the step; None when there is nothing
    to do (already finished, run over, or cancelled before it ran)."""
    from django.conf import settings

    with transaction.atomic():
        step = RunStep.objects.filter(pk=step_id).first()
        if step is None or step.state in STEP_FINAL:
            return None
        run = _locked_run(step.run_id)
        step.run = run
        if run.state not in (RunState.RUNNING, RunState.COMPENSATING):
            return None
        if step.operation == StepOperation.APPLY and (
            run.state != RunState.RUNNING or run.cancel_requested_at
        ):
            step_move(step, StepState.SKIPPED, reason="not run: the run was cancelled or undone")
            _advance(run)
            return None
        if step.attempts >= settings.PROVISION_MAX_RETRIES + 1 + LOST_ATTEMPTS_ALLOWED:
            error = (
                f"the step was started {step.attempts} times without an answer (its worker "
                "was lost each time); giving up"
            )
            _fail(run, step, error, fields={"finished_at": timezone.now()})
            return None
        if step.attempts == 0:
            reason = "started"
        elif step.state == StepState.RETRYING:
            reason = f"attempt {step.attempts + 1} after a transient error"
        else:
            reason = f"attempt {step.attempts + 1}: the previous one ended without an answer"
        step_move(
            step,
            StepState.RUNNING,
            reason=reason,
            fields={"attempts": step.attempts + 1, "started_at": step.started_at or timezone.now()},
        )
    return step


def _attempt_fields(step: RunStep, log: list[dict], duration_ms: float, **more) -> dict:
    return {
        "log": [*step.log, *log],
        "duration_ms": (step.duration_ms or 0) + duration_ms,
        **more,
    }


def step_retry(
    *, step: RunStep, error: str, log: list[dict], duration_ms: float, input: dict | None = None
) -> None:
    fields = _attempt_fields(step, log, duration_ms, error=error)
    if input is not None:
        fields["input"] = input
    with transaction.atomic():
        step_move(step, StepState.RETRYING, reason=error, fields=fields)


def step_succeed(
    *, step: RunStep, result: StepResult, log: list[dict], duration_ms: float, input: dict
) -> None:
    with transaction.atomic():
        run = _locked_run(step.run_id)
        step.run = run
        fields = _attempt_fields(
            step,
            log,
            duration_ms,
            input=input,
            output=result.output,
            artifact=result.artifact,
            artifact_name=result.artifact_name,
            error="",
            finished_at=timezone.now(),
        )
        if not step_move(step, StepState.SUCCEEDED, reason="done", fields=fields):
            return
        if step.operation == StepOperation.APPLY and result.resource is not None:
            _resource_create(run, step, result)
        elif step.operation != StepOperation.APPLY:
            gone = _target_resource(step)
            if gone is not None and gone.state != ResourceState.DELETED:
                resource_move(
                    gone,
                    ResourceState.DELETED,
                    reason=f"{step.get_operation_display().lower()} step {step.step_id} done",
                    fields={"deleted_at": timezone.now()},
                )
                ResourceSecret.objects.filter(resource=gone).update(
                    ciphertext="", destroyed_at=timezone.now()
                )
        _advance(run)


def step_fail(
    *, step: RunStep, error: str, log: list[dict], duration_ms: float, input: dict | None = None
) -> None:
    fields = _attempt_fields(step, log, duration_ms, finished_at=timezone.now())
    if input is not None:
        fields["input"] = input
    with transaction.atomic():
        run = _locked_run(step.run_id)
        step.run = run
        _fail(run, step, error, fields=fields)


def _fail(run: ProvisioningRun, step: RunStep, error: str, *, fields: dict) -> None:
    if not step_move(step, StepState.FAILED, reason=error, fields={**fields, "error": error}):
        return
    if step.operation == StepOperation.APPLY:
        reason = f"step {step.step_id} ({step.action}) failed: {error}"
        if run.kind == RunKind.PROVISION:
            _compensate(run, reason, failed=True)
        else:
            _finish(run, RunState.FAILED, error=reason)
        return
    target = _target_resource(step)
    run.leftovers = [
        *run.leftovers,
        {
            "step": step.step_id,
            "action": step.action,
            "name": target.name if target else step.step_id,
            "error": error,
        },
    ]
    ProvisioningRun.objects.filter(pk=run.pk).update(leftovers=run.leftovers)
    if target is not None:
        resource_move(target, ResourceState.DELETE_FAILED, reason=error)
    _advance(run)


def _target_resource(step: RunStep) -> Resource | None:
    if step.resource_id:
        return Resource.objects.select_related("request").filter(pk=step.resource_id).first()
    if step.undoes_id:
        return Resource.objects.select_related("request").filter(step_id=step.undoes_id).first()
    return None


def _resource_create(run: ProvisioningRun, step: RunStep, result: StepResult) -> None:
    spec, request = result.resource, run.request
    if spec is None or request is None or Resource.objects.filter(step=step).exists():
        return
    resource = Resource.objects.create(
        kind=step.action,
        name=spec.name,
        external_id=spec.external_id,
        request=request,
        step=step,
        team_id=request.team_id,
        requester_id=request.requester_id,
        cost_center=request.team.cost_center,
        template_version_id=request.template_version_id,
        details=spec.details,
        expires_at=request.expires_at,
    )
    ResourceSecret.objects.filter(step=step).update(resource=resource)
    change = _resource_change(
        resource,
        resource.state,
        actor=None,
        reason=f"created by step {step.step_id} of run {run.uuid}",
        template_version=f"{run.template}@{request.template_version.version}",
        cost_center=resource.cost_center,
        expires_at=resource.expires_at,
    )
    first_state(resource, change=change)


# --- moving the run on -----------------------------------------------------------------------


def _advance(run: ProvisioningRun) -> None:
    """Enqueue the next open step, or end the run (caller holds the run's row lock)."""
    if run.state not in (RunState.RUNNING, RunState.COMPENSATING):
        return
    steps = list(run.steps.order_by("position"))
    if run.state == RunState.RUNNING and run.cancel_requested_at:
        for step in steps:
            if step.state in (StepState.PENDING, StepState.RETRYING):
                step.run = run
                step_move(step, StepState.SKIPPED, reason="not run: the run was cancelled")
        if any(step.state == StepState.RUNNING for step in steps):
            return  # the running step ends first; its end comes back here
        by = run.cancelled_by.get_username() if run.cancelled_by else "SSOps"
        _compensate(run, f"cancelled by {by}")
        return
    wanted = StepOperation.UNDO if run.state == RunState.COMPENSATING else None
    if any(
        s.state in (StepState.RUNNING, StepState.RETRYING)
        and (wanted is None or s.operation == wanted)
        for s in steps
    ):
        return  # one step at a time: the one in flight comes back here when it ends
    for step in steps:
        if step.state == StepState.PENDING and (wanted is None or step.operation == wanted):
            _enqueue(step)
            return
    _end(run, steps)


def _end(run: ProvisioningRun, steps: list[RunStep]) -> None:
    if run.state == RunState.COMPENSATING:
        if run.leftovers:
            names = ", ".join(item["name"] for item in run.leftovers)
            _finish(run, RunState.FAILED, error=f"{run.error}; could not undo: {names}")
        else:
            done = RunState.CANCELLED if run.cancel_requested_at else RunState.ROLLED_BACK
            _finish(run, done)
    elif run.kind == RunKind.TEARDOWN and run.leftovers:
        names = ", ".join(item["name"] for item in run.leftovers)
        _finish(run, RunState.FAILED, error=f"could not delete: {names}")
    else:
        _finish(run, RunState.SUCCEEDED)


def _compensate(run: ProvisioningRun, reason: str, *, failed: bool = False) -> None:
    """Undo, newest first, every compensable step that succeeded or failed (a failed step may
    have got half-way); steps that never ran are skipped. A run undone because a step `failed`
    (not cancelled) raises the provisioning-failure alert of its request."""
    moved = run_move(run, RunState.COMPENSATING, reason=reason, fields={"error": reason})
    if not moved:
        return
    request = _request_of(run.request_id) if run.request_id else None
    if request is not None and request.state == RequestState.PROVISIONING:
        request_mark_failed(request=request, error=reason)
        if failed:
            provisioning_failure_alert(request=request, error=reason)
    steps = list(run.steps.order_by("position"))
    position = max(s.position for s in steps)
    undo = []
    for step in steps:
        step.run = run
        if step.operation != StepOperation.APPLY:
            continue
        if step.state in (StepState.PENDING, StepState.RETRYING):
            step_move(step, StepState.SKIPPED, reason="not run: the run is being undone")
    created = {r.step_id: r for r in Resource.objects.filter(step__run=run)}
    for step in sorted(steps, key=lambda s: -s.position):
        action = action_get(step.action)
        if step.operation != StepOperation.APPLY or step.state not in (
            StepState.SUCCEEDED,
            StepState.FAILED,
        ):
            continue
        if action is None or not action.compensable:
            continue
        position += 1
        undo.append(
            RunStep(
                run=run,
                position=position,
                step_id=step.step_id,
                name=f"Undo: {step.name}",
                action=step.action,
                operation=StepOperation.UNDO,
                undoes=step,
                resource=created.get(step.pk),
                input=step.input,
            )
        )
    RunStep.objects.bulk_create(undo)
    for resource in created.values():
        if resource.state == ResourceState.ACTIVE:
            resource_move(resource, ResourceState.DELETING, reason=reason)
    _advance(run)


def _finish(run: ProvisioningRun, state: str, *, error: str = "") -> None:
    now = timezone.now()
    fields = {"finished_at": now, "leftovers": run.leftovers}
    if error:
        fields["error"] = error
    if run.kind == RunKind.PROVISION and state == RunState.SUCCEEDED:
        fields["outputs"] = _outputs(run)
    if not run_move(run, state, reason=error or _FINISH_REASON[state], fields=fields):
        return
    request = _request_of(run.request_id) if run.request_id else None
    if run.kind == RunKind.PROVISION and request is not None:
        if state == RunState.SUCCEEDED and request.state == RequestState.PROVISIONING:
            request_mark_ready(request=request, outputs=run.outputs)
            provisioning_failures_resolve(request=request)
        elif (
            state in (RunState.ROLLED_BACK, RunState.CANCELLED)
            and request.state == RequestState.FAILED
        ):
            request_mark_rolled_back(request=request)
        _count(run)
    elif run.kind == RunKind.TEARDOWN and request is not None and state == RunState.SUCCEEDED:
        if RequestState.DELETED in lifecycle.TRANSITIONS.get(request.state, ()):
            request_mark_deleted(request=request, actor=run.actor, reason="resources deleted")
    elif run.kind == RunKind.RUNBOOK:
        from provisioning.services.runbooks import runbook_run_after_engine

        runbook_run_after_engine(run=run)


_FINISH_REASON = {
    RunState.SUCCEEDED: "every step done",
    RunState.ROLLED_BACK: "every completed step undone",
    RunState.CANCELLED: "cancelled; every completed step undone",
    RunState.FAILED: "failed",
}


def _outputs(run: ProvisioningRun) -> dict:
    """The template's `output` with the steps' outputs filled in."""
    from provisioning.runner import render_context

    version = run.request.template_version
    try:
        values = rendered(version.outputs.get("values", {}), render_context(run), "spec.output")
    except PermanentError as exc:
        values = {"error": str(exc)}
    return {"values": values, "links": version.outputs.get("links", [])}


def _count(run: ProvisioningRun) -> None:
    outcome = PROVISION_OUTCOME.get(run.state, run.state)
    seconds = run.duration_seconds

    def count() -> None:
        PROVISION_TOTAL.labels(template=run.template, outcome=outcome).inc()
        if seconds is not None:
            PROVISION_SECONDS.labels(template=run.template, outcome=outcome).observe(seconds)

    transaction.on_commit(count)


# --- cancelling, resuming --------------------------------------------------------------------


def run_cancel(*, run: ProvisioningRun, actor) -> ProvisioningRun:
    """Stop a provisioning run and undo what it did: the step in flight finishes first, no
    later step starts, and the completed ones are compensated (the request ends rolled back)."""
    if run.request is None or not permissions.can_cancel(actor, run.request):
        raise PermissionDenied("Only the requester, a team admin or a platform admin may cancel.")
    with transaction.atomic():
        run = _locked_run(run.pk)
        if run.kind != RunKind.PROVISION or run.state != RunState.RUNNING:
            raise TransitionNotAllowed(
                f"only a running provisioning run can be cancelled; this one is {run.state}"
            )
        if run.cancel_requested_at is None:
            now = timezone.now()
            ProvisioningRun.objects.filter(pk=run.pk).update(
                cancel_requested_at=now, cancelled_by=actor, updated_at=now
            )
            run.cancel_requested_at, run.cancelled_by = now, actor
            audit_record(
                action="run.cancel_requested",
                actor=actor,
                obj=run,
                team=run.request.team_id,
                payload={"request": str(run.request.uuid), "template": run.template},
            )
            _advance(run)
    return run


def runs_resume_stalled(*, older_than_seconds: int = 600, limit: int = 200) -> int:
    """Beat: open runs that moved no further for a while (a message lost with a broker) get
    their open step enqueued again; duplicates are harmless (steps are claimed and keyed)."""
    cutoff = timezone.now() - dt.timedelta(seconds=older_than_seconds)
    stalled = ProvisioningRun.objects.filter(state__in=RUN_OPEN, updated_at__lt=cutoff)
    resumed = 0
    for run_id in stalled.values_list("pk", flat=True)[:limit]:
        with transaction.atomic():
            run = _locked_run(run_id)
            open_steps = run.steps.filter(
                state__in=(StepState.PENDING, StepState.RETRYING, StepState.RUNNING)
            )
            step = open_steps.order_by("position").first()
            if step is not None:
                _enqueue(step)
            else:
                _advance(run)
            ProvisioningRun.objects.filter(pk=run.pk).update(updated_at=timezone.now())
            resumed += 1
    return resumed
