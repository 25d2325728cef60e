"""CSV exports: no formulas."""

from __future__ import annotations

import csv
import io

import pytest

from dashboards.tables import Table, cell, csv_response
from metrics.services import billing_import
from tests.metrics.focus_files import charge, focus_csv

pytestmark = pytest.mark.django_db


# --- CSV exports: no formulas ------------------------------------------------------------------

FORMULAS = ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)", "\tx"]


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(api_as, executive):
    rows = [
        charge(1, "1.00", ServiceName=FORMULAS[0], resource=FORMULAS[1]),
        charge(2, "-1.50", ChargeCategory="Credit", ServiceName=FORMULAS[2]),
        charge(3, "2.00", ChargeDescription=FORMULAS[3]),
    ]
    billing_import(actor=None, lines=io.StringIO(focus_csv(rows)), file_name="f.csv")
    response = api_as(executive).get("/api/billing/rows/?format=csv")
    assert response["Content-Type"].startswith("text/csv")
    cells = [c for row in csv.reader(io.StringIO(response.content.decode())) for c in row]
    for formula in FORMULAS[:4]:  # (the FOCUS reader strips a leading tab)
        assert formula not in cells and f"'{formula}" in cells
    assert "-1.5000000000" in cells  # a number stays a number


def test_dashboard_csv_neutralises_formulas_and_keeps_numbers():
    table = Table(
        "t",
        "T",
        ["a", "b", "c"],
        rows=[[cell(FORMULAS[0]), cell(-3), cell("-0.25")], [cell("@x"), cell(2.5), cell("ok")]],
    )
    response = csv_response([table], "t", "export")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[1:] == [[f"'{FORMULAS[0]}", "-3", "-0.25"], ["'@x", "2.5", "ok"]]
