"""Runbooks: parameterised step sequences for incidents, and every run of one (guarded by policy
and, for high risk, an approval; verified after the action; its outcome feeds the remediation
success metric)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from catalog.choices import RiskTier
from catalog.models import PolicyDecision
from catalog.models.timeline import StateTransition
from provisioning.choices import RunbookRunState
from provisioning.models.runs import ProvisioningRun
from teams.models import Team, slug_validator

RUNBOOK_RUN_OPEN = (
    RunbookRunState.PENDING_APPROVAL,
    RunbookRunState.RUNNING,
    RunbookRunState.VERIFYING,
)
RUNBOOK_RUN_FINISHED = (RunbookRunState.SUCCEEDED, RunbookRunState.FAILED)


class Runbook(models.Model):
    """The current version of one runbook definition (catalog/definitions/runbooks/*.yaml).
    A version number never changes content; every run keeps the definition it ran."""

    slug = models.CharField(max_length=63, unique=True, validators=[slug_validator])
    version = models.CharField(max_length=64)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    owner = models.CharField(max_length=100, blank=True)
    tags = models.JSONField(default=list, blank=True)
    risk_tier = models.CharField(max_length=8, choices=RiskTier.choices)
    parameters_schema = models.JSONField(default=dict)
    steps = models.JSONField(default=list)
    verify = models.JSONField(default=dict)
    document = models.JSONField(default=dict)
    digest = models.CharField(max_length=64)
    source_path = models.CharField(max_length=500, blank=True)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "catalog_runbook"
        ordering = ["title", "slug"]

    def __str__(self) -> str:
        return f"{self.slug}@{self.version}"

    @property
    def parameter_fields(self) -> list[dict]:
        required = set(self.parameters_schema.get("required", []))
        return [
            {"name": name, "required": name in required, **prop}
            for name, prop in self.parameters_schema.get("properties", {}).items()
        ]


class RunbookRun(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    runbook = models.ForeignKey(Runbook, on_delete=models.PROTECT, related_name="runs")
    runbook_version = models.CharField(max_length=64)
    # The definition as it was run (steps, verify, parameters schema).
    definition = models.JSONField(default=dict)
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.PROTECT, related_name="runbook_runs"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="runbook_runs"
    )
    by_oncall = models.BooleanField(default=False)
    parameters = models.JSONField(default=dict)
    justification = models.TextField(blank=True)
    risk_tier = models.CharField(max_length=8, choices=RiskTier.choices)
    required_approvals = models.PositiveSmallIntegerField(default=0)
    state = models.CharField(max_length=16, choices=RunbookRunState.choices)
    deny_reasons = models.JSONField(default=list, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    run = models.OneToOneField(
        ProvisioningRun,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="runbook_run",
    )
    # The policy decisions that guarded this run (they guard no request).
    decisions = models.ManyToManyField(
        PolicyDecision, through="RunbookRunDecision", related_name="runbook_runs", blank=True
    )
    # What the verification checked and saw: {"type", "query"/"step", "expected", "observed", ...}
    verification = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "catalog_runbookrun"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["state", "finished_at"], name="runbook_run_state_idx"),
            models.Index(fields=["team", "created_at"], name="runbook_run_team_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.runbook.slug} by {self.actor} ({self.state})"

    @property
    def succeeded(self) -> bool | None:
        """True or False once finished (verified or failed), None before."""
        if self.state not in RUNBOOK_RUN_FINISHED:
            return None
        return self.state == RunbookRunState.SUCCEEDED


class RunbookRunDecision(models.Model):
    """Links a policy decision to the runbook run it guarded (each decision to one run)."""

    runbook_run = models.ForeignKey(RunbookRun, on_delete=models.CASCADE)
    decision = models.OneToOneField(PolicyDecision, on_delete=models.CASCADE)

    def __str__(self) -> str:
        return f"{self.runbook_run_id}: decision {self.decision_id}"


class RunbookRunTransition(StateTransition):
    runbook_run = models.ForeignKey(
        RunbookRun, on_delete=models.CASCADE, related_name="transitions"
    )

    class Meta(StateTransition.Meta):
        db_table = "catalog_runbookruntransition"

    def __str__(self) -> str:
        return f"{self.runbook_run_id}: {self.from_state or '∅'} → {self.to_state}"


class RunbookApproval(models.Model):
    runbook_run = models.ForeignKey(RunbookRun, on_delete=models.CASCADE, related_name="approvals")
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="runbook_approvals"
    )
    decision = models.CharField(max_length=8)
    comment = models.TextField(blank=True)
    audit_seq = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "catalog_runbookapproval"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["runbook_run", "approver"], name="runbook_approval_one_per_person"
            )
        ]

    def __str__(self) -> str:
        return f"{self.approver} {self.decision} {self.runbook_run_id}"
