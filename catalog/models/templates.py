"""Catalog templates and their versions. A published version is immutable; it can only be
deprecated (no new requests) — every request keeps pointing at the exact version it used."""

from __future__ import annotations

import semver
from django.conf import settings
from django.db import models

from catalog.choices import RiskTier, VersionStatus
from catalog.template_spec import target_of
from teams.models import slug_validator


class ImmutableVersionError(RuntimeError):
    """Raised on any attempt to change a published template version's content."""


class Template(models.Model):
    """One entry of the catalog; the display fields mirror its latest published version."""

    slug = models.CharField(max_length=63, unique=True, validators=[slug_validator])
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    # Space-framed words (" database postgres ") so a tag filter is one `contains` on any DB.
    tags = models.CharField(max_length=500, blank=True)
    owner = models.CharField(max_length=100, blank=True)
    risk_tier = models.CharField(max_length=8, choices=RiskTier.choices)
    latest_version = models.ForeignKey(
        "TemplateVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title", "slug"]

    def __str__(self) -> str:
        return self.slug

    @property
    def tag_list(self) -> list[str]:
        return self.tags.split()

    @staticmethod
    def tags_text(tags) -> str:
        return f" {' '.join(sorted(set(tags)))} " if tags else ""


class TemplateVersion(models.Model):
    MUTABLE_FIELDS = frozenset({"status", "deprecated_at", "deprecation_reason"})

    template = models.ForeignKey(Template, on_delete=models.PROTECT, related_name="versions")
    version = models.CharField(max_length=64)
    status = models.CharField(
        max_length=12, choices=VersionStatus.choices, default=VersionStatus.PUBLISHED
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    owner = models.CharField(max_length=100, blank=True)
    risk_tier = models.CharField(max_length=8, choices=RiskTier.choices)
    default_ttl_hours = models.PositiveIntegerField()
    max_ttl_hours = models.PositiveIntegerField()
    approval_timeout_hours = models.PositiveIntegerField()
    required_approvals = models.PositiveSmallIntegerField()
    cost_monthly = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    resources = models.JSONField()
    parameters_schema = models.JSONField()
    steps = models.JSONField()
    outputs = models.JSONField(default=dict)
    document = models.JSONField()
    digest = models.CharField(max_length=64)
    source_path = models.CharField(max_length=500, blank=True)
    published_at = models.DateTimeField(auto_now_add=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    deprecated_at = models.DateTimeField(null=True, blank=True)
    deprecation_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["template__slug", "-published_at"]
        constraints = [
            models.UniqueConstraint(fields=["template", "version"], name="template_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.template.slug}@{self.version}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            fields = kwargs.get("update_fields")
            if fields is None or not set(fields) <= self.MUTABLE_FIELDS:
                raise ImmutableVersionError(
                    f"{self} is published and immutable: publish a new version instead"
                )
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableVersionError(f"{self} is published: deprecate it instead of deleting it")

    @property
    def semver(self) -> semver.Version:
        return semver.Version.parse(self.version)

    @property
    def is_deprecated(self) -> bool:
        return self.status == VersionStatus.DEPRECATED

    @property
    def parameter_fields(self) -> list[dict]:
        """The parameters in schema order, each with its name and whether it is required."""
        required = set(self.parameters_schema.get("required", []))
        return [
            {"name": name, "required": name in required, **prop}
            for name, prop in self.parameters_schema.get("properties", {}).items()
        ]

    @property
    def target(self) -> dict:
        """spec.target of the published document: the service a request changes and the
        parameter holding its environment ({} when the template names none)."""
        spec = self.document.get("spec", {}) if isinstance(self.document, dict) else {}
        target = spec.get("target")
        return target if isinstance(target, dict) else {}

    def target_of(self, parameters: dict) -> tuple[str, str]:
        """(service, environment) of a request with these parameters ("" when unknown)."""
        return target_of(self.target, parameters, self.parameters_schema)
