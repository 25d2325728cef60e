"""What evaluation leaves behind: snapshots (history for charts), alert states and their
transitions, and the outbox of messages for Alertmanager."""

from __future__ import annotations

from django.db import models

from slo.choices import AlertEventKind, DataStatus, Severity
from slo.models.slos import SLO


class Snapshot(models.Model):
    """One evaluation of one SLO (every minute by the beat job)."""

    slo = models.ForeignKey(SLO, on_delete=models.CASCADE, related_name="snapshots")
    at = models.DateTimeField()
    data_status = models.CharField(max_length=16, choices=DataStatus.choices)
    sli = models.FloatField(null=True)
    error_budget_remaining = models.FloatField(null=True)
    burn_rates = models.JSONField(default=dict)
    alerts = models.JSONField(default=list)
    held = models.JSONField(
        default=list,
        blank=True,
        help_text="Alerts whose conditions held but that did not fire, each with its reason "
        "(low traffic, maintenance)",
    )
    time_to_exhaustion = models.FloatField(null=True, help_text="seconds")
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["-at"]
        # The unique index on (slo, at) also serves the history reads of the pages.
        constraints = [models.UniqueConstraint(fields=["slo", "at"], name="snapshot_once")]

    def __str__(self) -> str:
        return f"{self.slo} at {self.at:%Y-%m-%d %H:%M}"


class AlertState(models.Model):
    """Whether an SLO's page (or ticket) alert is firing now, and since when."""

    slo = models.ForeignKey(SLO, on_delete=models.CASCADE, related_name="alert_states")
    severity = models.CharField(max_length=8, choices=Severity.choices)
    firing = models.BooleanField(default=False)
    since = models.DateTimeField(null=True)
    windows = models.JSONField(default=list, help_text="the window pairs above threshold")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["slo", "severity"], name="alert_state_once")]

    def __str__(self) -> str:
        return f"{self.slo} {self.severity}: {'firing' if self.firing else 'ok'}"


class AlertEvent(models.Model):
    """A transition of an alert: fired or resolved (the alert history of an SLO)."""

    slo = models.ForeignKey(SLO, on_delete=models.CASCADE, related_name="alert_events")
    severity = models.CharField(max_length=8, choices=Severity.choices)
    kind = models.CharField(max_length=8, choices=AlertEventKind.choices)
    at = models.DateTimeField()
    windows = models.JSONField(default=list)
    burn_rates = models.JSONField(default=dict)
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["slo", "-at"], name="alert_event_slo_at")]

    def __str__(self) -> str:
        return f"{self.slo} {self.severity} {self.kind} at {self.at:%Y-%m-%d %H:%M}"


class AlertDelivery(models.Model):
    """One message for Alertmanager, kept until it is delivered (the outbox).

    Rows go out oldest first, one alert's messages in order; a failed post stays pending with
    its error and is retried with backoff. Delivered rows are pruned after a while.
    """

    state = models.ForeignKey(AlertState, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(
        AlertEvent,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="deliveries",
        help_text="The transition this message announces; empty for a firing alert's refresh.",
    )
    kind = models.CharField(max_length=8, choices=AlertEventKind.choices)
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "alert deliveries"

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({'delivered' if self.delivered_at else 'pending'})"
