"""What evaluation leaves behind: snapshots (history for charts), alert states and their
transitions, the alerts SSOps raises about its own operations, and the outbox of messages for
Alertmanager."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q

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


class PlatformAlert(models.Model):
    """An alert about SSOps's own operations rather than an SLO's burn — a provisioning run that
    failed, a spike of policy denies, an approval past its due time — raised by the app that
    sees the cause. One row per cause (`key`): raising it again while it fires changes nothing,
    so Alertmanager holds one alert per cause; it fires again only after it was resolved."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    key = models.CharField(max_length=200, unique=True, help_text="the cause, e.g. a request")
    alertname = models.CharField(max_length=100)
    severity = models.CharField(max_length=8, choices=Severity.choices)
    labels = models.JSONField(default=dict, help_text="as Alertmanager gets them")
    summary = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    url = models.CharField(max_length=500, help_text="the page that explains it")
    firing = models.BooleanField(default=True)
    since = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-since", "-id"]
        indexes = [models.Index(fields=["alertname", "firing"], name="platform_alert_firing")]

    def __str__(self) -> str:
        return f"{self.alertname} {self.key} ({'firing' if self.firing else 'resolved'})"


class AlertDelivery(models.Model):
    """One message for Alertmanager, kept until it is delivered (the outbox): about an SLO's
    alert (`state`) or one of SSOps's own (`alert`).

    Rows go out oldest first, one alert's messages in order; a failed post stays pending with
    its error and is retried with backoff. Delivered rows are pruned after a while.
    """

    state = models.ForeignKey(
        AlertState, on_delete=models.CASCADE, null=True, blank=True, related_name="deliveries"
    )
    alert = models.ForeignKey(
        PlatformAlert,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="deliveries",
        help_text="One of SSOps's own alerts; each of its messages announces a transition.",
    )
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
        constraints = [
            models.CheckConstraint(
                condition=Q(state__isnull=False, alert__isnull=True)
                | Q(state__isnull=True, alert__isnull=False),
                name="alert_delivery_of_one_alert",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({'delivered' if self.delivered_at else 'pending'})"

    @property
    def stream(self) -> str:
        """The alert whose messages must go out in order."""
        return f"slo-{self.state_id}" if self.state_id else f"platform-{self.alert_id}"
