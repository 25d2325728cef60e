"""One FilterSet drives both the SLO list page and the SLO API."""

from __future__ import annotations

import django_filters
from django.db.models import Q

from slo.choices import DataStatus, EvaluationPath
from slo.models import SLO


class SLOFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="Name contains")
    team = django_filters.CharFilter(field_name="team__slug", label="Team (slug)")
    service = django_filters.CharFilter(field_name="service__name", label="Service")
    data_status = django_filters.ChoiceFilter(choices=DataStatus.choices, label="Data status")
    evaluation = django_filters.ChoiceFilter(choices=EvaluationPath.choices, label="Evaluated by")
    firing = django_filters.BooleanFilter(method="filter_firing", label="Alert firing")

    class Meta:
        model = SLO
        fields: list[str] = []

    def filter_q(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(display_name__icontains=value))

    def filter_firing(self, queryset, name, value):
        firing = queryset.filter(alert_states__firing=True).values("pk")
        return queryset.filter(pk__in=firing) if value else queryset.exclude(pk__in=firing)
