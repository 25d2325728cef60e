"""What provisioning left in the world: resources with their owner and lifecycle, the secret of
a new resource (encrypted, shown once), and what the orphan and drift scans found."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from catalog.models.requests import Request
from catalog.models.templates import TemplateVersion
from catalog.models.timeline import StateTransition
from provisioning.choices import DriftResolution, OrphanKind, ResourceState
from provisioning.models.runs import RunStep
from teams.models import Team

RESOURCE_HELD = (ResourceState.ACTIVE, ResourceState.DELETING, ResourceState.DELETE_FAILED)


class Resource(models.Model):
    """One backend object SSOps created (a database, a namespace, a grant), owned by a team."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=100, help_text="The action that created it.")
    name = models.CharField(max_length=200, help_text="Its name in the backend.")
    # The id billing exports and inventories use (FOCUS ResourceId), e.g. postgres://host/db.
    external_id = models.CharField(max_length=300, db_index=True)
    request = models.ForeignKey(Request, on_delete=models.PROTECT, related_name="resources")
    # The step that created it: one resource per step key, however often the step ran.
    step = models.OneToOneField(RunStep, on_delete=models.PROTECT, related_name="created_resource")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="resources")
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="catalog_resources"
    )
    cost_center = models.CharField(max_length=64, blank=True)
    template_version = models.ForeignKey(
        TemplateVersion, on_delete=models.PROTECT, related_name="provisioned"
    )
    state = models.CharField(
        max_length=16, choices=ResourceState.choices, default=ResourceState.ACTIVE
    )
    # Non-secret facts (host, port, database, cluster, applied …).
    details = models.JSONField(default=dict, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    # Expiry warnings already sent, as hours before expiry (e.g. [72, 24]).
    warnings_sent = models.JSONField(default=list, blank=True)
    # Backend facts someone accepted as they are now (a drift finding accepted), which the
    # drift scan expects instead of what the template version provisioned; re-applying the
    # template version clears them.
    drift_accepted = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "catalog_resource"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["team", "state"], name="resource_team_state_idx"),
            models.Index(fields=["state", "expires_at"], name="resource_expiry_idx"),
            models.Index(fields=["kind", "name"], name="resource_kind_name_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.name} ({self.state})"

    @property
    def is_held(self) -> bool:
        return self.state in RESOURCE_HELD


class ResourceTransition(StateTransition):
    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="transitions")

    class Meta(StateTransition.Meta):
        db_table = "catalog_resourcetransition"
        indexes = [models.Index(fields=["created_at"], name="resource_trans_created_idx")]

    def __str__(self) -> str:
        return f"{self.resource_id}: {self.from_state or '∅'} → {self.to_state}"


class ResourceSecret(models.Model):
    """A credential a step generated (e.g. a database password), encrypted with
    SSOPS_SECRETS_KEY. Kept by step key so a re-run uses the same one; shown to the requester
    once, then the ciphertext is wiped."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    step = models.OneToOneField(RunStep, on_delete=models.CASCADE, related_name="secret")
    resource = models.OneToOneField(
        Resource, null=True, blank=True, on_delete=models.CASCADE, related_name="secret"
    )
    ciphertext = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revealed_at = models.DateTimeField(null=True, blank=True)
    revealed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    destroyed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "catalog_resourcesecret"

    def __str__(self) -> str:
        return f"secret of step {self.step_id}"

    @property
    def can_reveal(self) -> bool:
        return bool(self.ciphertext) and self.revealed_at is None and self.destroyed_at is None


class OrphanFinding(models.Model):
    """Something the orphan scan found: a resource whose owner is gone, or a backend object
    that SSOps created (by name prefix or label) and no longer has in its inventory."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=16, choices=OrphanKind.choices)
    backend = models.CharField(max_length=100)
    name = models.CharField(max_length=200)
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="orphan_findings"
    )
    resource = models.ForeignKey(
        Resource, null=True, blank=True, on_delete=models.SET_NULL, related_name="orphan_findings"
    )
    reason = models.TextField()
    details = models.JSONField(default=dict, blank=True)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "catalog_orphanfinding"
        ordering = ["team__slug", "backend", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "backend", "name"],
                condition=Q(resolved_at__isnull=True),
                name="orphan_one_open_finding",
            )
        ]

    def __str__(self) -> str:
        return f"{self.backend} {self.name}: {self.reason}"


class DriftFinding(models.Model):
    """What the drift scan found: a resource whose backend no longer holds what was provisioned
    (or what was accepted since). `differences` lists each fact with what SSOps expected and
    what it found. It stays open until a scan finds no difference, someone accepts the change,
    or the template version is re-applied."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="drift_findings")
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="drift_findings"
    )
    differences = models.JSONField(default=list)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    reapply_requested_at = models.DateTimeField(null=True, blank=True)
    reapply_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_error = models.TextField(blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=16, choices=DriftResolution.choices, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-last_seen_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["resource"],
                condition=Q(resolved_at__isnull=True),
                name="drift_one_open_finding",
            )
        ]

    def __str__(self) -> str:
        return f"drift of {self.resource_id}: {len(self.differences)} difference(s)"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None
