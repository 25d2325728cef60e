"""Catalog requests, the timeline of their transitions, and the approvals they collected."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from catalog import lifecycle
from catalog.choices import ApprovalDecision, ChangeKind, NudgeKind, RequestState, RiskTier
from catalog.models.templates import TemplateVersion
from catalog.models.timeline import StateTransition
from teams.models import Team


class Request(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    template_version = models.ForeignKey(
        TemplateVersion, on_delete=models.PROTECT, related_name="requests"
    )
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="requests")
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="catalog_requests"
    )
    parameters = models.JSONField(default=dict)
    justification = models.TextField(blank=True)
    change_kind = models.CharField(
        max_length=16,
        choices=ChangeKind.choices,
        default=ChangeKind.NORMAL,
        help_text="Set by the requester, shown to approvers; a break-glass request is approved "
        "by a platform admin's break-glass only",
    )
    ttl_hours = models.PositiveIntegerField()
    state = models.CharField(
        max_length=16, choices=RequestState.choices, default=RequestState.SUBMITTED
    )
    risk_tier = models.CharField(max_length=8, choices=RiskTier.choices)
    required_approvals = models.PositiveSmallIntegerField(default=0)
    approval_due_at = models.DateTimeField(
        null=True, blank=True, help_text="when a decision is due (then it is overdue)"
    )
    approval_expires_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="when an undecided request expires (empty: at its due time, as before)",
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    deny_reasons = models.JSONField(default=list)
    warnings = models.JSONField(default=list)
    outputs = models.JSONField(default=dict)
    break_glass = models.BooleanField(default=False)
    break_glass_reason = models.TextField(blank=True)
    break_glass_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    break_glass_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["requester", "created_at"], name="request_requester_idx"),
            models.Index(fields=["team", "state"], name="request_team_state_idx"),
            models.Index(fields=["state", "approval_due_at"], name="request_due_idx"),
            models.Index(fields=["state", "expires_at"], name="request_expiry_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.template_version} for {self.team.slug} ({self.state})"

    @property
    def is_live(self) -> bool:
        return self.state in lifecycle.LIVE

    @property
    def is_final(self) -> bool:
        return self.state in lifecycle.TERMINAL


class RequestTransition(StateTransition):
    """One edge the request travelled, with who moved it and why (the page's timeline)."""

    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="transitions")
    to_state = models.CharField(max_length=16, choices=RequestState.choices)

    class Meta(StateTransition.Meta):
        pass

    def __str__(self) -> str:
        return f"{self.from_state or '∅'} → {self.to_state}"


class Approval(models.Model):
    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="approvals")
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="catalog_approvals"
    )
    decision = models.CharField(max_length=8, choices=ApprovalDecision.choices)
    comment = models.TextField(blank=True)
    as_platform_admin = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["request", "approver"], name="approval_one_per_person")
        ]

    def __str__(self) -> str:
        return f"{self.approver} {self.decision} {self.request_id}"


class ApprovalNudge(models.Model):
    """A reminder to the approvers of a request waiting for approval, or its escalation once
    overdue (to the team's admins, then to the platform admins); sent once each, audited and
    shown on the request's timeline."""

    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="nudges")
    kind = models.CharField(max_length=24, choices=NudgeKind.choices)
    recipients = models.JSONField(default=list, help_text="usernames told")
    sent_at = models.DateTimeField()
    audit_seq = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["sent_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["request", "kind"], name="approval_nudge_once")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for request {self.request_id}"
