"""Policies (Rego modules) with immutable versions, and every decision they made."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from catalog.choices import DecisionOutcome, PolicyMode, RiskTier
from teams.models import slug_validator


class Policy(models.Model):
    slug = models.CharField(max_length=63, unique=True, validators=[slug_validator])
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    enabled = models.BooleanField(default=True)
    current_version = models.ForeignKey(
        "PolicyVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]
        verbose_name_plural = "policies"

    def __str__(self) -> str:
        return self.slug

    @property
    def mode(self) -> str:
        return self.current_version.mode if self.current_version else ""


class PolicyVersion(models.Model):
    """The module, its examples and its mode at one moment; a change makes a new version."""

    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    mode = models.CharField(max_length=8, choices=PolicyMode.choices)
    source = models.TextField()
    examples = models.JSONField(default=list)
    digest = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["policy__slug", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "number"], name="policy_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.policy.slug} v{self.number}"


class PolicyDecision(models.Model):
    """One evaluation of one policy version for one request, or for one runbook run (which links
    its decisions from provisioning); the deny-rate metric reads these."""

    request = models.ForeignKey(
        "Request", null=True, blank=True, on_delete=models.CASCADE, related_name="decisions"
    )
    policy_version = models.ForeignKey(
        PolicyVersion, on_delete=models.PROTECT, related_name="decisions"
    )
    mode = models.CharField(max_length=8, choices=PolicyMode.choices)
    outcome = models.CharField(max_length=8, choices=DecisionOutcome.choices)
    enforced = models.BooleanField()
    deny = models.JSONField(default=list)
    warn = models.JSONField(default=list)
    risk_tier = models.CharField(max_length=8, choices=RiskTier.choices, blank=True)
    error = models.TextField(blank=True)
    input_digest = models.CharField(max_length=64)
    latency_ms = models.FloatField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["created_at"], name="decision_created_idx"),
            models.Index(fields=["outcome", "created_at"], name="decision_outcome_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.policy_version}: {self.outcome}"
