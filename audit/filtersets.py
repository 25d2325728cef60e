"""One FilterSet drives both the audit page and the audit API."""

from __future__ import annotations

import django_filters

from audit.models import AuditEvent
from audit.selectors import ts_text
from core.filters import UtcDateTimeFilter
from teams.models import Team


class AuditEventFilterSet(django_filters.FilterSet):
    actor = django_filters.CharFilter(field_name="actor_name", label="Actor (username)")
    action = django_filters.CharFilter(
        method="filter_action", label="Action (end with . for a prefix)"
    )
    object_type = django_filters.CharFilter(label="Object type")
    object_id = django_filters.CharFilter(label="Object id")
    team = django_filters.CharFilter(method="filter_team", label="Team (slug)")
    request_id = django_filters.CharFilter(label="Request id")
    since = UtcDateTimeFilter(method="filter_since", label="Since (ISO 8601)")
    until = UtcDateTimeFilter(method="filter_until", label="Until (ISO 8601)")

    class Meta:
        model = AuditEvent
        fields: list[str] = []

    def filter_action(self, queryset, name, value):
        if value.endswith("."):
            return queryset.filter(action__startswith=value)
        return queryset.filter(action=value)

    def filter_team(self, queryset, name, value):
        return queryset.filter(team_id__in=Team.objects.filter(slug=value).values("pk"))

    def filter_since(self, queryset, name, value):
        return queryset.filter(ts__gte=ts_text(value))

    def filter_until(self, queryset, name, value):
        return queryset.filter(ts__lt=ts_text(value))
