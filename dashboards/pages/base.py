"""A dashboard page: its tables and charts by name, and whatever else its template shows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse

from dashboards.charts import Chart
from dashboards.tables import Cell, Table, cell


@dataclass
class Page:
    title: str
    filename: str  # the stem of its CSV and PNG files
    tables: dict[str, Table] = field(default_factory=dict)
    charts: dict[str, Chart] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)

    def add_table(self, table: Table) -> Table:
        self.tables[table.name.replace("-", "_")] = table
        return table

    def add_chart(self, chart: Chart) -> Chart:
        self.charts[chart.name.replace("-", "_")] = chart
        return chart


def request_cell(uuid, view: str = "dashboards:debug") -> Cell:
    """A request named by the start of its UUID, linking to its debug page (or `view`)."""
    if uuid is None:
        return cell(None)
    return cell(str(uuid), str(uuid)[:8], href=reverse(view, args=[uuid]), mono=True)
