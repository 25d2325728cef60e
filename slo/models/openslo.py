"""The OpenSLO objects besides SLOs: data sources, services, alert policies and their parts.

Each is upserted by name by `slo_import` and written back by `slo_export`.
"""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models

from slo.choices import DataSourceKind
from slo.definitions import SourceKey

name_validator = RegexValidator(
    r"^[a-z0-9]([a-z0-9._-]{0,198}[a-z0-9])?$",
    "Use lower-case letters, digits, '.', '_' and '-' (at most 200), starting and ending with a "
    "letter or digit.",
)


def web_address(value: str) -> None:
    """An http(s) URL; unlike URLField, in-cluster names such as http://prometheus:9090 pass."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(f"{value!r} is not an http(s) URL, e.g. http://prometheus:9090")


class OpenSLOObject(models.Model):
    """Fields every OpenSLO object has: a unique name, a display name, a description, labels."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200, unique=True, validators=[name_validator])
    display_name = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    labels = models.JSONField(default=dict, blank=True)
    kept_fields = models.JSONField(
        default=list,
        blank=True,
        help_text="Fields of the imported document that SSOps does not use, as [path, value] "
        "pairs, written back by slo_export",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DataSource(OpenSLOObject):
    """Where an SLO's numbers come from. A Prometheus without a URL uses PROMETHEUS_URL."""

    kind = models.CharField(
        max_length=16, choices=DataSourceKind.choices, default=DataSourceKind.PROMETHEUS
    )
    url = models.CharField(max_length=500, blank=True, validators=[web_address])

    class Meta(OpenSLOObject.Meta):
        pass

    def source_key(self) -> SourceKey:
        return SourceKey(self.kind, self.url if self.kind == DataSourceKind.PROMETHEUS else "")


class Service(OpenSLOObject):
    team = models.ForeignKey("teams.Team", on_delete=models.PROTECT, related_name="slo_services")

    class Meta(OpenSLOObject.Meta):
        pass


class AlertNotificationTarget(OpenSLOObject):
    target = models.CharField(max_length=200)

    class Meta(OpenSLOObject.Meta):
        pass


class AlertCondition(OpenSLOObject):
    """Kept as written (OpenSLO `burnrate` conditions); SSOps itself alerts with the
    multiwindow, multi-burn-rate scheme of docs/architecture.md."""

    severity = models.CharField(max_length=64)
    kind = models.CharField(max_length=32, default="burnrate")
    op = models.CharField(max_length=8)
    threshold = models.FloatField()
    lookback_window = models.CharField(max_length=16)
    alert_after = models.CharField(max_length=16, blank=True)

    class Meta(OpenSLOObject.Meta):
        pass


class AlertPolicy(OpenSLOObject):
    alert_when_breaching = models.BooleanField(default=True)
    alert_when_resolved = models.BooleanField(default=False)
    alert_when_no_data = models.BooleanField(default=False)
    conditions = models.ManyToManyField(AlertCondition, related_name="policies", blank=True)
    notification_targets = models.ManyToManyField(
        AlertNotificationTarget, related_name="policies", blank=True
    )

    class Meta(OpenSLOObject.Meta):
        verbose_name_plural = "alert policies"
