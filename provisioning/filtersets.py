"""One FilterSet per list of provisioning, used by both the pages and the API."""

from __future__ import annotations

import django_filters

from catalog.filtersets import MineFilterSet
from provisioning.choices import ResourceState, RunbookRunState, RunKind, RunState
from provisioning.models import ProvisioningRun, Resource, RunbookRun


class ResourceFilterSet(MineFilterSet):
    state = django_filters.MultipleChoiceFilter(choices=ResourceState.choices, label="State")
    team = django_filters.CharFilter(field_name="team__slug", label="Team")
    kind = django_filters.CharFilter(label="Kind")
    request = django_filters.UUIDFilter(field_name="request__uuid", label="Request")

    class Meta:
        model = Resource
        fields: list[str] = []


class RunFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=RunKind.choices)
    state = django_filters.MultipleChoiceFilter(choices=RunState.choices)
    request = django_filters.UUIDFilter(field_name="request__uuid", label="Request")
    template = django_filters.CharFilter(label="Template or runbook")

    class Meta:
        model = ProvisioningRun
        fields: list[str] = []


class RunbookRunFilterSet(django_filters.FilterSet):
    runbook = django_filters.CharFilter(field_name="runbook__slug", label="Runbook")
    state = django_filters.MultipleChoiceFilter(choices=RunbookRunState.choices)
    team = django_filters.CharFilter(field_name="team__slug", label="Team")

    class Meta:
        model = RunbookRun
        fields: list[str] = []
