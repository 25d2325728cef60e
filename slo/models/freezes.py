"""Lifting a service's change freeze for a while (platform admins, audited)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from slo.models.openslo import Service


class FreezeOverride(models.Model):
    """While it lasts, the service's deploy gate and the catalog's freeze policy stay open
    whatever its SLOs say."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="freeze_overrides")
    until = models.DateTimeField()
    reason = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True, help_text="Set when lifted early")

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["service", "until"], name="freeze_override_idx")]

    def __str__(self) -> str:
        return f"{self.service} open until {self.until:%Y-%m-%d %H:%M}"
