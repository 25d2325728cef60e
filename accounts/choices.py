"""Kinds and scopes of API tokens."""

from django.db import models

from core import badges as core_badges


class TokenKind(models.TextChoices):
    PERSONAL = "personal", "Personal"
    SERVICE = "service", "Service"


class TokenScope(models.TextChoices):
    """What a token may do, on top of what its owner may do: `read` (GET), `write` (every other
    method), `approve` (decide approvals: requests and runbook runs). Write and approve include
    read."""

    READ = "read", "Read"
    WRITE = "write", "Write"
    APPROVE = "approve", "Approve"


class TokenState(models.TextChoices):
    ACTIVE = "active", "Active"
    EXPIRED = "expired", "Expired"
    REVOKED = "revoked", "Revoked"


# Badges are keyed by value across apps: "active" is already green, "expired" stays plain.
core_badges.register({TokenState.REVOKED: "bad"})
