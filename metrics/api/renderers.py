"""CSV export of any API list: `?format=csv` (or Accept: text/csv) on the same URL."""

from __future__ import annotations

import csv
import io
import json
import re

from rest_framework.renderers import BaseRenderer

# A cell starting with one of these is run as a formula by spreadsheets (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[-+]?\d+(\.\d+)?([eE][-+]?\d+)?")


def spreadsheet_safe(value):
    """A text that a spreadsheet would take for a formula, with a ' in front (OWASP's advice);
    numbers, negative ones included, and every other value unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not NUMBER.fullmatch(value):
        return "'" + value
    return value


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return spreadsheet_safe(json.dumps(value, sort_keys=True, default=str))
    return spreadsheet_safe(str(value))


class CSVRenderer(BaseRenderer):
    """Rows (a list of objects, or a page of them) as CSV with a header of every key met, in
    order; nested values are written as JSON, texts that look like formulas neutralised."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, dict) and isinstance(data.get("results"), list):
            data = data["results"]
        rows = data if isinstance(data, list) else [data]
        rows = [row if isinstance(row, dict) else {"value": row} for row in rows]
        columns = list(dict.fromkeys(key for row in rows for key in row))
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_cell(row.get(column)) for column in columns])
        view = (renderer_context or {}).get("view")
        response = (renderer_context or {}).get("response")
        if response is not None and response.status_code == 200:
            name = getattr(view, "csv_name", None) or "export"
            response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return out.getvalue().encode(self.charset)


class CSVExportMixin:
    """Lists answer CSV too (`?format=csv`), whole: a CSV export is never paginated."""

    def get_renderers(self):
        return [*super().get_renderers(), CSVRenderer()]

    def paginate_queryset(self, queryset):
        if getattr(self.request, "accepted_renderer", None) is not None and (
            self.request.accepted_renderer.format == "csv"
        ):
            return None
        return super().paginate_queryset(queryset)
