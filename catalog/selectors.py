"""Reads for catalog pages and API, scoped to what the caller may see."""

from __future__ import annotations

from django.db.models import QuerySet

from catalog import permissions
from catalog.models import Team


def team_list_visible(*, user) -> QuerySet[Team]:
    if permissions.sees_everything(user):
        return Team.objects.all()
    return Team.objects.filter(pk__in=permissions.team_ids(user))
