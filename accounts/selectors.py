"""Reads of API tokens, scoped to what the caller may see."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from accounts.choices import TokenKind
from accounts.models import ApiToken
from teams import permissions
from teams.models import Team


def personal_tokens_of(*, user) -> QuerySet[ApiToken]:
    """The caller's own personal tokens (nobody else's: not even a platform admin lists them)."""
    return ApiToken.objects.filter(kind=TokenKind.PERSONAL, user_id=user.pk).select_related(
        "user", "team", "created_by", "revoked_by", "rotated_from", "rotated_to"
    )


def service_tokens_visible(*, user) -> QuerySet[ApiToken]:
    """Service tokens of the caller's teams; platform admins and executives see every team's."""
    tokens = ApiToken.objects.filter(kind=TokenKind.SERVICE).select_related(
        "user", "team", "created_by", "revoked_by", "rotated_from", "rotated_to"
    )
    if permissions.sees_everything(user):
        return tokens.order_by("team__slug", "name", "-created_at")
    return tokens.filter(team_id__in=permissions.team_ids(user)).order_by(
        "team__slug", "name", "-created_at"
    )


def teams_managed(*, user) -> QuerySet[Team]:
    """Teams whose service tokens the caller may create, rotate and revoke."""
    if permissions.is_platform_admin(user):
        return Team.objects.all()
    return Team.objects.filter(
        pk__in=[t for t in permissions.team_ids(user) if permissions.is_team_admin(user, t)]
    )


def expiring_soon(tokens, now=None) -> list[ApiToken]:
    """Those of `tokens` that work and expire within the first warning threshold, not
    rotated already (the page warns about them)."""
    now = now or timezone.now()
    horizon = now + timedelta(days=max(settings.TOKEN_WARNING_DAYS or [0]))
    return [
        token
        for token in tokens
        if token.revoked_at is None
        and now < token.expires_at <= horizon
        and token.successor is None
    ]
