"""One attempt of one step: claim it, render its input, call its backend, record the outcome.

The Celery task `provisioning.tasks.run_step` calls `step_execute` and retries when asked to (a
transient error, or another live attempt holding the step). Backoff is exponential with
jitter: half of min(cap, delay × 2^retry) plus a random share of the other half.
"""

from __future__ import annotations

import logging
import random
import time

from django.conf import settings
from jsonschema import Draft202012Validator

from catalog import actions
from provisioning import claims, crypto
from provisioning.base import LogBook, PermanentError, StepContext, StepError, TransientError
from provisioning.choices import RunKind, StepOperation
from provisioning.models import ProvisioningRun, Resource, ResourceSecret, RunStep
from provisioning.render import context_for, rendered
from provisioning.services import runs

logger = logging.getLogger(__name__)

BACKOFF_CAP_SECONDS = 300
CLAIM_POLL_SECONDS = 5


def backoff(retry: int, *, base: float | None = None) -> float:
    base = settings.PROVISION_RETRY_DELAY if base is None else base
    ceiling = min(BACKOFF_CAP_SECONDS, base * 2**retry)
    return ceiling / 2 + random.uniform(0, ceiling / 2)


def request_fields(run: ProvisioningRun) -> dict:
    """What `${{ request.* }}` resolves to (and what backends know about the requester)."""
    if run.kind == RunKind.RUNBOOK:
        runbook_run = run.runbook_run
        return {
            "uuid": str(runbook_run.uuid),
            "team": runbook_run.team.slug if runbook_run.team else "",
            "requester": runbook_run.actor.get_username(),
            "ttl_hours": 0,
            "expires_at": "",
            "cost_center": runbook_run.team.cost_center if runbook_run.team else "",
            "template": run.template,
        }
    request = run.request
    return {
        "uuid": str(request.uuid),
        "team": request.team.slug,
        "requester": request.requester.get_username(),
        "ttl_hours": request.ttl_hours,
        "expires_at": request.expires_at.isoformat() if request.expires_at else "",
        "cost_center": request.team.cost_center,
        "template": run.template,
        "version": request.template_version.version,
    }


def render_context(run: ProvisioningRun) -> dict:
    if run.kind == RunKind.RUNBOOK:
        runbook_run = run.runbook_run
        schema, parameters = runbook_run.definition.get("parameters", {}), runbook_run.parameters
    else:
        schema = run.request.template_version.parameters_schema
        parameters = run.request.parameters
    return context_for(
        schema=schema,
        parameters=parameters,
        request=request_fields(run),
        outputs=runs.step_outputs(run),
    )


def _secret_for(step: RunStep):
    """The step's secret: created (random, encrypted, committed) on first use, the same one on
    every later attempt, so a re-run sets the same password."""

    def get() -> str:
        stored = ResourceSecret.objects.filter(step=step).first()
        if stored is None:
            ResourceSecret.objects.get_or_create(
                step=step, defaults={"ciphertext": crypto.encrypt(crypto.new_password())}
            )
            stored = ResourceSecret.objects.get(step=step)
        if not stored.ciphertext:
            raise PermanentError("the step's secret was already shown and wiped")
        return crypto.decrypt(stored.ciphertext)

    return get


def step_context(step: RunStep, log: LogBook) -> tuple[StepContext, dict]:
    """The backend's context, and the input as rendered (stored with the step)."""
    run = step.run
    target = step.undoes if step.operation != StepOperation.APPLY else step
    context = render_context(run)
    try:
        step_input = rendered(target.input, context, f"step {target.step_id} input")
    except PermanentError:
        if step.operation == StepOperation.APPLY:
            raise
        step_input = {}  # the target never got as far as its backend
    if step.operation == StepOperation.APPLY:
        _validate(step.action, step_input)
    resource = step.resource or Resource.objects.filter(step=target).first()
    ctx = StepContext(
        key=str(target.uuid),
        action=step.action,
        operation=step.operation,
        input=step_input,
        output=dict(target.output or {}),
        log=log,
        request=request_fields(run),
        resource=dict(resource.details, name=resource.name) if resource else {},
        secret=_secret_for(target),
        started_at=target.started_at,
    )
    return ctx, step_input


def _validate(action_name: str, step_input: dict) -> None:
    action = actions.action_get(action_name)
    if action is None:
        raise PermanentError(f"no action {action_name!r} is declared")
    errors = sorted(
        Draft202012Validator(action.input_schema).iter_errors(step_input), key=lambda e: e.path
    )
    if errors:
        where = ".".join(str(p) for p in errors[0].absolute_path) or "input"
        raise PermanentError(f"{action_name} input {where}: {errors[0].message}")


def step_execute(*, step_id: int, retries: int = 0) -> float | None:
    """Run one attempt. Returns seconds to wait before the task runs again, or None."""
    if not claims.acquire(step_id):
        return CLAIM_POLL_SECONDS  # another live attempt holds it; look again later
    try:
        step = runs.step_begin(step_id=step_id)
        if step is None:
            return None
        return _attempt(step, retries)
    finally:
        claims.release(step_id)


def _attempt(step: RunStep, retries: int) -> float | None:
    log = LogBook(str(step.uuid), step.action)
    verb = {"apply": "apply", "undo": "undo", "delete": "delete"}[step.operation]
    log.info(f"attempt {step.attempts}: {verb} {step.action}")
    started = time.perf_counter()
    step_input = None

    def elapsed() -> float:
        return (time.perf_counter() - started) * 1000

    try:
        backend = actions.implementation_for(step.action)
        if backend is None:
            raise PermanentError(f"no backend is installed for {step.action}")
        ctx, step_input = step_context(step, log)
        result = backend.apply(ctx) if step.operation == StepOperation.APPLY else backend.undo(ctx)
    except TransientError as exc:
        if retries < settings.PROVISION_MAX_RETRIES:
            wait = backoff(retries)
            log.warning(
                f"transient error: {exc}; retry {retries + 1} of "
                f"{settings.PROVISION_MAX_RETRIES} in {wait:.1f} s"
            )
            runs.step_retry(
                step=step, error=str(exc), log=log.lines, duration_ms=elapsed(), input=step_input
            )
            return wait
        error = f"gave up after {retries} retries: {exc}"
    except StepError as exc:
        error = str(exc)
    except Exception as exc:  # a bug or an unexpected library error: never retried blindly
        error = f"unexpected {type(exc).__name__}: {exc}"
        logger.error("step %s failed unexpectedly: %s", step.uuid, error)
    else:
        log.info(f"done in {elapsed():.0f} ms")
        runs.step_succeed(
            step=step, result=result, log=log.lines, duration_ms=elapsed(), input=step_input
        )
        return None
    log.error(error)
    runs.step_fail(
        step=step,
        error=log.lines[-1]["message"],
        log=log.lines,
        duration_ms=elapsed(),
        input=step_input,
    )
    return None
