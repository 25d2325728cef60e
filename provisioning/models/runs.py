"""Provisioning runs and their steps, and the timeline of both (every row with its audit event).

A run carries out a request's template steps (`provision`), deletes a request's resources
(`teardown`) or executes a runbook (`runbook`). Each step is one Celery task; its `uuid` is the
step key that makes the backend call idempotent (create-if-absent, delete-if-present).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from catalog.models.requests import Request
from catalog.models.timeline import StateTransition
from provisioning.choices import RunKind, RunState, StepOperation, StepState

RUN_OPEN = (RunState.PENDING, RunState.RUNNING, RunState.COMPENSATING)
RUN_FINAL = (RunState.SUCCEEDED, RunState.FAILED, RunState.ROLLED_BACK, RunState.CANCELLED)
STEP_OPEN = (StepState.PENDING, StepState.RUNNING, StepState.RETRYING)
STEP_FINAL = (StepState.SUCCEEDED, StepState.FAILED, StepState.SKIPPED)


class ProvisioningRun(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=12, choices=RunKind.choices)
    request = models.ForeignKey(
        Request, null=True, blank=True, on_delete=models.CASCADE, related_name="runs"
    )
    # The template (or runbook) slug, kept for metric labels and lists.
    template = models.CharField(max_length=63)
    state = models.CharField(max_length=16, choices=RunState.choices, default=RunState.PENDING)
    error = models.TextField(blank=True)
    # What could not be undone or deleted: [{"action", "name", "error"}].
    leftovers = models.JSONField(default=list, blank=True)
    outputs = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "catalog_provisioningrun"
        ordering = ["-created_at", "-id"]
        constraints = [
            # A request is provisioned by one run; redelivered messages find it again.
            models.UniqueConstraint(
                fields=["request"],
                condition=Q(kind=RunKind.PROVISION),
                name="run_one_provision_per_request",
            ),
            models.UniqueConstraint(
                fields=["request"],
                condition=Q(kind=RunKind.TEARDOWN, state__in=RUN_OPEN),
                name="run_one_open_teardown_per_request",
            ),
        ]
        indexes = [
            models.Index(fields=["kind", "state"], name="run_kind_state_idx"),
            models.Index(fields=["finished_at"], name="run_finished_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} run {self.uuid} ({self.state})"

    @property
    def is_open(self) -> bool:
        return self.state in RUN_OPEN

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class RunStep(models.Model):
    """One action of a run: apply a template step, undo one (compensation) or delete a
    resource. `uuid` is the idempotency key handed to the backend."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    run = models.ForeignKey(ProvisioningRun, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveIntegerField()
    step_id = models.CharField(max_length=63)
    name = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=100)
    operation = models.CharField(
        max_length=8, choices=StepOperation.choices, default=StepOperation.APPLY
    )
    undoes = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="undone_by"
    )
    resource = models.ForeignKey(
        "Resource", null=True, blank=True, on_delete=models.SET_NULL, related_name="delete_steps"
    )
    # The input as rendered when the step ran (for undo and delete: the target's identity).
    input = models.JSONField(default=dict, blank=True)
    output = models.JSONField(default=dict, blank=True)
    artifact = models.TextField(blank=True)
    artifact_name = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=12, choices=StepState.choices, default=StepState.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    log = models.JSONField(default=list, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.FloatField(null=True, blank=True)
    # Claim of a running attempt where the database has no session locks (SQLite).
    lease_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "catalog_runstep"
        ordering = ["run_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["run", "position"], name="run_step_position_unique")
        ]

    def __str__(self) -> str:
        return f"{self.operation} {self.step_id} ({self.action}, {self.state})"

    @property
    def is_open(self) -> bool:
        return self.state in STEP_OPEN


class RunTransition(StateTransition):
    """One state change of a run or of one of its steps (`step` set), with its audit event."""

    run = models.ForeignKey(ProvisioningRun, on_delete=models.CASCADE, related_name="transitions")
    step = models.ForeignKey(
        RunStep, null=True, blank=True, on_delete=models.CASCADE, related_name="transitions"
    )

    class Meta(StateTransition.Meta):
        db_table = "catalog_runtransition"
        indexes = [models.Index(fields=["created_at"], name="run_transition_created_idx")]

    def __str__(self) -> str:
        subject = f"step {self.step_id}" if self.step_id else f"run {self.run_id}"
        return f"{subject}: {self.from_state or '∅'} → {self.to_state}"
