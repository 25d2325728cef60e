"""The API's filter backend: django-filter, but a parameter that is given must be valid.

django-filter treats an empty or unreadable value as "no filter", which suits HTML forms (the
pages use the same FilterSets directly) but hides mistakes in API calls: `?until=` or
`?firing=maybe` would quietly return everything. The API answers 400 instead.
"""

from __future__ import annotations

from datetime import UTC, datetime

import django_filters
from django import forms
from django.utils.dateparse import parse_datetime
from django_filters.fields import IsoDateTimeField
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


def utc_moment(text: str) -> datetime | None:
    """The ISO 8601 time in `text` as the same instant in UTC, or None when it is none.

    Any offset ISO 8601 allows (up to ±23:59) is read, though PostgreSQL holds none beyond
    ±15:59; a time without one is taken as UTC. A date that does not exist (February 30) or a
    time with no UTC instant in the years 1 to 9999 (0001-01-01T00:00+05:00) is none."""
    try:
        moment = parse_datetime(text)
        if moment is None:
            return None
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


class UtcDateTimeField(IsoDateTimeField):
    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None:
            return None
        try:
            return moment.astimezone(UTC)
        except OverflowError:
            raise forms.ValidationError(
                "This time has no UTC equivalent in the years 1 to 9999.", code="invalid"
            ) from None


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 time, compared in UTC (see `utc_moment`); one out of range is a 400."""

    field_class = UtcDateTimeField
