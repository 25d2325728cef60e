"""Reads of teams, scoped to what the caller may see."""

from __future__ import annotations

from django.db.models import QuerySet

from teams import permissions
from teams.models import Team


def team_list_visible(*, user) -> QuerySet[Team]:
    if permissions.sees_everything(user):
        return Team.objects.all()
    return Team.objects.filter(pk__in=permissions.team_ids(user))


def team_list_requestable(*, user) -> QuerySet[Team]:
    """Teams the user may file requests for."""
    if permissions.is_platform_admin(user):
        return Team.objects.all()
    return Team.objects.filter(pk__in=permissions.team_ids(user))
