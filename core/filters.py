"""The API's filter backend: django-filter, but a parameter that is given must be valid.

django-filter treats an empty or unreadable value as "no filter", which suits HTML forms (the
pages use the same FilterSets directly) but hides mistakes in API calls: `?until=` or
`?firing=maybe` would quietly return everything. The API answers 400 instead.
"""

from __future__ import annotations

from datetime import UTC

import django_filters
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError

BOOLEAN_WORDS = {"true", "false", "1", "0"}
MANY_VALUES = (django_filters.MultipleChoiceFilter, django_filters.BaseInFilter)


class StrictFilterBackend(DjangoFilterBackend):
    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is not None:
            problems = {
                name: [problem]
                for name, problem in (
                    (name, _problem(filter_, request.query_params.getlist(name)))
                    for name, filter_ in filterset.filters.items()
                )
                if problem
            }
            if problems:
                raise ValidationError(problems)
        return filterset


def _problem(filter_, values: list[str]) -> str:
    if not values:
        return ""
    if len(values) > 1 and not isinstance(filter_, MANY_VALUES):
        return "give this parameter once"
    value = values[0]
    if isinstance(filter_, django_filters.BooleanFilter):
        return "" if value.lower() in BOOLEAN_WORDS else f"{value!r} is not true or false"
    if value == "" and not isinstance(filter_, django_filters.CharFilter):
        return "is empty: give a value, or leave the parameter out"
    return ""


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 time, compared in UTC: any offset ISO 8601 allows (up to ±23:59) is read,
    though PostgreSQL holds none beyond ±15:59."""

    def filter(self, qs, value):
        return super().filter(qs, value.astimezone(UTC) if value else value)
