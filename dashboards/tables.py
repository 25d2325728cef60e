"""Tables of the dashboards: one description serves the page (HTML) and its CSV export, so the
file a user downloads holds exactly the rows the page shows, as raw values."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from typing import Any

from django.http import Http404, HttpResponse
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify

from metrics.api.renderers import spreadsheet_safe

DASH = "—"


@dataclass(frozen=True, slots=True)
class Cell:
    """One cell: `value` goes to the CSV, `text` to the page (with an optional link and a badge
    class — ok, warn or bad — that never stands alone: the text says the same)."""

    value: Any
    text: str = ""
    href: str = ""
    badge: str = ""
    mono: bool = False

    def markup(self) -> str:
        """The cell as a <td>: escaped text, in a badge and a link where it has them."""
        inner = escape(self.text)
        if self.badge:
            inner = f'<span class="badge {escape(self.badge)}">{inner}</span>'
        if self.href:
            inner = f'<a href="{escape(self.href)}">{inner}</a>'
        return f'<td class="mono">{inner}</td>' if self.mono else f"<td>{inner}</td>"


def cell(value: Any, text: str | None = None, **extra) -> Cell:
    if text is None:
        text = DASH if value is None or value == "" else str(value)
    return Cell(value, text, **extra)


def when(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> Cell:
    """A time: ISO 8601 in the CSV, UTC minutes on the page."""
    if moment is None:
        return Cell(None, DASH)
    return Cell(moment.isoformat(), moment.strftime(fmt), mono=True)


@dataclass
class Table:
    name: str
    caption: str
    columns: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    empty: str = "Nothing to show."
    shown: bool = True  # False: too long for the page, offered as a CSV download only
    collapsed: bool = False  # the figures behind a chart: folded away until asked for

    def body(self) -> SafeString:
        """Every row's markup at once: built here rather than by the template, because a
        dashboard table may have hundreds of rows (each cell escaped in `Cell.markup`)."""
        return mark_safe(  # noqa: S308 - built from escaped parts only
            "".join(f"<tr>{''.join(c.markup() for c in row)}</tr>" for row in self.rows)
        )

    def csv_rows(self) -> Iterable[list[Any]]:
        yield self.columns
        for row in self.rows:
            yield ["" if c.value is None else spreadsheet_safe(c.value) for c in row]


def csv_response(tables: list[Table], name: str, filename: str) -> HttpResponse:
    """The table called `name` as a CSV download; 404 when the page has no such table."""
    table = next((t for t in tables if t.name == name), None)
    if table is None:
        known = ", ".join(t.name for t in tables)
        raise Http404(f"No table {name!r} on this page; choose one of: {known}")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{slugify(filename)}-{name}.csv"'
    writer = csv.writer(response)
    for row in table.csv_rows():
        writer.writerow(row)
    return response
