"""API tokens: personal ones (a person's, acting as that person) and service ones (a team's, for
CI pipelines, acting as the team's service identity). Each expires; a key is stored only as its
digest (accounts/keys.py)."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.choices import TokenKind, TokenState
from teams.models import Team


class ApiTokenQuerySet(models.QuerySet):
    def valid(self, now: datetime | None = None) -> ApiTokenQuerySet:
        """Tokens that authenticate now: neither revoked nor expired."""
        return self.filter(revoked_at__isnull=True, expires_at__gt=now or timezone.now())


class ApiToken(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=16, choices=TokenKind.choices)
    name = models.CharField(max_length=100)
    # Who a call made with the token acts as: the owner of a personal token, the service
    # identity (a user without a password, member of its team) of a service token.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.CASCADE, related_name="service_tokens"
    )
    scopes = models.JSONField(default=list)
    key_prefix = models.CharField(max_length=16)
    key_digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoke_reason = models.CharField(max_length=200, blank=True)
    # The token this one replaced in a rotation (the old one stays valid for the overlap).
    rotated_from = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="rotated_to"
    )
    # Expiry warnings already sent, as days before expiry (e.g. [14, 3]).
    warnings_sent = models.JSONField(default=list, blank=True)
    # The last refusal (expired, revoked) recorded in the audit store: one an hour at most.
    refused_at = models.DateTimeField(null=True, blank=True)
    # When the owner last left a team, and which (a use after that is an unexpected actor).
    owner_left_at = models.DateTimeField(null=True, blank=True)
    owner_left_team = models.CharField(max_length=63, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "revoked_at"], name="apitoken_user_idx"),
            models.Index(fields=["team", "kind"], name="apitoken_team_idx"),
            models.Index(fields=["expires_at"], name="apitoken_expiry_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind=TokenKind.PERSONAL, team__isnull=True)
                | Q(kind=TokenKind.SERVICE, team__isnull=False),
                name="apitoken_service_has_team",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} token {self.name} ({self.key_prefix}…)"

    def state(self, now: datetime | None = None) -> str:
        if self.revoked_at is not None:
            return TokenState.REVOKED
        if self.expires_at <= (now or timezone.now()):
            return TokenState.EXPIRED
        return TokenState.ACTIVE

    @property
    def current_state(self) -> str:
        return self.state()

    @property
    def successor(self) -> ApiToken | None:
        """The token that replaced this one in a rotation, if any."""
        try:
            return self.rotated_to
        except ApiToken.DoesNotExist:
            return None

    def allows(self, scope: str) -> bool:
        # Scopes are stored with what they include (write and approve bring read along).
        return scope in self.scopes


class OidcIdentity(models.Model):
    """A person of the identity provider, known by the provider's issuer and subject (`sub`) and
    never by e-mail or user name, so that no provider account can become a local one."""

    issuer = models.CharField(max_length=255)
    subject = models.CharField(max_length=255)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="oidc_identity"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_sign_in_at = models.DateTimeField(null=True, blank=True)
    # The groups the provider sent at the last sign-in (what the roles were set from).
    groups = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="oidcidentity_unique")
        ]

    def __str__(self) -> str:
        return f"{self.subject} at {self.issuer}"


class SpentIdToken(models.Model):
    """ID tokens already traded for an SSOps token (`ssops login`), by digest, kept until they
    expire: an ID token seen on its way (a proxy's log, a shell history) cannot be traded
    again."""

    digest = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"spent ID token {self.digest[:12]}…"
