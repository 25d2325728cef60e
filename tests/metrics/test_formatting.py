"""How figures read on the pages: in their metric's unit, a dash when there is none."""

from datetime import UTC, datetime

from metrics import catalogue
from metrics.periods import period_containing
from metrics.templatetags.platform_tags import format_value, sparkline

M = catalogue.BY_KEY


def test_each_unit_reads_as_people_expect():
    assert format_value(0.99912, catalogue.RATIO) == "99.91 %"
    assert format_value(85.5, catalogue.SECONDS) == "85.5 s"
    assert format_value(87.0, catalogue.SECONDS) == "87 s"
    assert format_value(1800, catalogue.SECONDS) == "30 m"
    assert format_value(5.5, catalogue.MONEY, {"currency": "EUR"}) == "5.50 EUR"
    assert format_value(1234.0, catalogue.COUNT) == "1,234"
    assert format_value(1.75, catalogue.BURN) == "1.75×"
    assert format_value(40.0, catalogue.NPS) == "+40"
    assert format_value(-12.5, catalogue.NPS) == "-12"
    for unit in (catalogue.RATIO, catalogue.SECONDS, catalogue.MONEY):
        assert format_value(None, unit) == "—"  # never 0 or 100 %


def test_a_sparkline_leaves_a_gap_where_a_period_has_no_value():
    weeks = [period_containing("week", datetime(2026, 1, d, tzinfo=UTC)) for d in (5, 12, 19, 26)]
    line = sparkline(list(zip(weeks, [0.5, None, 0.7, 0.9], strict=True)), M["M1"])
    assert line.count("<polyline") == 2 and "2026-W03 —" in line
    assert sparkline(list(zip(weeks, [None, None, None, 0.5], strict=True)), M["M1"]) == ""
