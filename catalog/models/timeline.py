"""The shape of a timeline row: one state change with who made it, why, and the seq of its
audit event (the audit-completeness metric checks each row against the audit store)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class StateTransition(models.Model):
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(blank=True)
    audit_seq = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["id"]
