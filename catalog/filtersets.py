"""One FilterSet per list, used by both the pages and the API."""

from __future__ import annotations

import django_filters
from django.db.models import Q

from catalog.choices import DecisionOutcome, PolicyMode, RequestState, RiskTier
from catalog.models import PolicyDecision, Request, Template
from core.filters import UtcDateTimeFilter


class TemplateFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="Search")
    tag = django_filters.CharFilter(method="filter_tag", label="Tag")
    risk_tier = django_filters.ChoiceFilter(
        choices=RiskTier.choices, label="Risk tier", empty_label="Any"
    )
    owner = django_filters.CharFilter(label="Owner")

    class Meta:
        model = Template
        fields: list[str] = []

    def filter_q(self, queryset, name, value):
        words = value.split()
        for word in words:
            queryset = queryset.filter(
                Q(slug__icontains=word)
                | Q(title__icontains=word)
                | Q(description__icontains=word)
                | Q(tags__icontains=word)
            )
        return queryset

    def filter_tag(self, queryset, name, value):
        return queryset.filter(tags__contains=f" {value.strip().lower()} ")


class MineFilterSet(django_filters.FilterSet):
    """`mine=true`: only what the caller requested."""

    mine = django_filters.BooleanFilter(method="filter_mine", label="Only mine")

    def filter_mine(self, queryset, name, value):
        user = getattr(self.request, "user", None)
        if value and user is not None:
            return queryset.filter(requester_id=user.pk)
        return queryset


class RequestFilterSet(MineFilterSet):
    state = django_filters.MultipleChoiceFilter(choices=RequestState.choices, label="State")
    team = django_filters.CharFilter(field_name="team__slug", label="Team")
    template = django_filters.CharFilter(
        field_name="template_version__template__slug", label="Template"
    )
    break_glass = django_filters.BooleanFilter(label="Break-glass")

    class Meta:
        model = Request
        fields: list[str] = []


class PolicyDecisionFilterSet(django_filters.FilterSet):
    policy = django_filters.CharFilter(field_name="policy_version__policy__slug", label="Policy")
    mode = django_filters.ChoiceFilter(choices=PolicyMode.choices)
    outcome = django_filters.ChoiceFilter(choices=DecisionOutcome.choices)
    request = django_filters.UUIDFilter(field_name="request__uuid", label="Request")
    since = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = PolicyDecision
        fields: list[str] = []
