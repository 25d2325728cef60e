"""Pagination that refuses bad paging parameters (400) instead of silently ignoring them, and
says in the schema which values it takes."""

from __future__ import annotations

from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination, LimitOffsetPagination

# The largest whole number every JSON client reads exactly (2**53 - 1); beyond the databases'
# 64-bit integers a larger offset would fail in SQL instead of answering 400.
MAX_OFFSET = 2**53 - 1


def _bounded(parameters: list[dict], bounds: dict[str, dict]) -> list[dict]:
    """The paging parameters of the schema with the range each accepts."""
    for parameter in parameters:
        parameter["schema"].update(bounds.get(parameter["name"], {}))
    return parameters


def _whole_number(request, name: str, *, minimum: int, maximum: int | None = None) -> int | None:
    values = request.query_params.getlist(name)
    if not values:
        return None
    if len(values) > 1:
        raise ValidationError({name: ["give this parameter once"]})
    try:
        number = int(values[0])
    except ValueError:
        raise ValidationError({name: [f"{values[0]!r} is not a whole number"]}) from None
    if number < minimum or (maximum is not None and number > maximum):
        bound = f"from {minimum} to {maximum}" if maximum is not None else f"{minimum} or more"
        raise ValidationError({name: [f"must be {bound}"]})
    return number


class StrictLimitOffsetPagination(LimitOffsetPagination):
    max_limit = 1000

    def get_limit(self, request):
        limit = _whole_number(request, self.limit_query_param, minimum=1, maximum=self.max_limit)
        return self.default_limit if limit is None else limit

    def get_offset(self, request):
        return _whole_number(request, self.offset_query_param, minimum=0, maximum=MAX_OFFSET) or 0

    def get_schema_operation_parameters(self, view):
        return _bounded(
            super().get_schema_operation_parameters(view),
            {
                self.limit_query_param: {"minimum": 1, "maximum": self.max_limit},
                self.offset_query_param: {"minimum": 0, "maximum": MAX_OFFSET},
            },
        )


class StrictCursorPagination(CursorPagination):
    page_size_query_param = "limit"
    max_page_size = 1000

    def decode_cursor(self, request):
        # DRF answers 404 for a cursor it cannot read, as if the list were missing.
        try:
            return super().decode_cursor(request)
        except NotFound:
            raise ValidationError(
                {self.cursor_query_param: ["not a cursor of this list: follow next or previous"]}
            ) from None

    def get_page_size(self, request):
        size = _whole_number(
            request, self.page_size_query_param, minimum=1, maximum=self.max_page_size
        )
        return self.page_size if size is None else size

    def get_schema_operation_parameters(self, view):
        return _bounded(
            super().get_schema_operation_parameters(view),
            {self.page_size_query_param: {"minimum": 1, "maximum": self.max_page_size}},
        )
