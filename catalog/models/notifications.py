"""Outgoing webhooks: each request event is POSTed as JSON, signed with HMAC-SHA256."""

from __future__ import annotations

from django.db import models

from teams.models import Team


class Webhook(models.Model):
    name = models.CharField(max_length=100)
    url = models.URLField(max_length=500)
    # The signing key; shown nowhere after it is saved (the admin form is write-only).
    secret = models.CharField(max_length=200)
    team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="webhooks",
        help_text="Only this team's requests; empty for every team.",
    )
    events = models.JSONField(
        default=list, blank=True, help_text='States to send, e.g. ["pending_approval"]; [] = all.'
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def wants(self, event: str, team_id: int) -> bool:
        return (
            self.active
            and (not self.events or event in self.events)
            and (self.team_id is None or self.team_id == team_id)
        )
