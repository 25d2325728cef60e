"""Planned maintenance (OpenSLO v2alpha's BudgetAdjustment) and the Alertmanager silences SSOps
creates ahead of each window."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from slo.maintenance import MaintenanceError, Schedule
from slo.models.openslo import OpenSLOObject, Service
from slo.models.slos import SLO


class BudgetAdjustment(OpenSLOObject):
    """A one-off or recurring window during which an SLO's (or every SLO of a service's) events
    do not count and its alerts do not fire."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="adjustments")
    slo = models.ForeignKey(
        SLO,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="adjustments",
        help_text="Empty: every SLO of the service",
    )
    first_start = models.DateTimeField(help_text="When the (first) window begins")
    duration_seconds = models.PositiveIntegerField(help_text="How long each window lasts")
    rrule = models.CharField(
        max_length=500,
        blank=True,
        help_text="RFC 5545 RRULE for a recurring window, e.g. FREQ=WEEKLY;BYDAY=SU (times in "
        "UTC); empty for a one-off window",
    )
    reason = models.TextField(
        blank=True, help_text="Why a window that has already begun was added (platform admins)"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta(OpenSLOObject.Meta):
        indexes = [models.Index(fields=["service", "first_start"], name="adjustment_service_idx")]

    def schedule(self) -> Schedule:
        return Schedule(self.first_start, timedelta(seconds=self.duration_seconds), self.rrule)

    def clean(self) -> None:
        errors = {}
        same_service = self.slo_id is None or self.slo.service_id == self.service_id
        if self.service_id is not None and not same_service:
            errors["slo"] = f"{self.slo.name} is an SLO of {self.slo.service.name}"
        if self.first_start is not None and self.duration_seconds is not None:
            try:
                self.schedule().check()
            except MaintenanceError as exc:
                fields = {"start": "first_start", "length": "duration_seconds", "rrule": "rrule"}
                errors[fields[exc.part]] = str(exc)
        if errors:
            raise ValidationError(errors)

    @property
    def length_text(self) -> str:
        minutes, seconds = divmod(self.duration_seconds, 60)
        hours, minutes = divmod(minutes, 60)
        parts = [f"{hours}h" if hours else "", f"{minutes}m" if minutes else ""]
        return "".join(parts) + (f"{seconds}s" if seconds else "") or "0s"

    @property
    def scope(self) -> str:
        return self.slo.name if self.slo_id else f"every SLO of {self.service.name}"


class MaintenanceSilence(models.Model):
    """The Alertmanager silence made for one window of an adjustment (made once)."""

    adjustment = models.ForeignKey(
        BudgetAdjustment, on_delete=models.CASCADE, related_name="silences"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    silence_id = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["adjustment", "starts_at"], name="maintenance_silence_once"
            )
        ]

    def __str__(self) -> str:
        return f"silence {self.silence_id} for {self.adjustment} at {self.starts_at:%Y-%m-%d %H:%M}"
