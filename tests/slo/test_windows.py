"""Durations and calendar periods (local wall-clock time, months of different lengths, DST)."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from slo import windows
from slo.windows import WindowError, calendar_period, parse_duration, promql_duration

PARIS = ZoneInfo("Europe/Paris")


def test_durations_use_the_openslo_shorthand():
    assert parse_duration("30d").nominal_seconds == 30 * 86400
    assert parse_duration("4w").nominal_seconds == 28 * 86400
    assert str(parse_duration(" 1M ")) == "1M"


@pytest.mark.parametrize("text", ["30", "1.5d", "d", "0d", "30 days", "-1d"])
def test_a_malformed_duration_is_refused(text):
    with pytest.raises(WindowError, match="is not a duration"):
        parse_duration(text)


def test_rolling_windows_are_hours_days_or_weeks_from_a_day_to_400_days():
    assert str(windows.rolling_duration("28d")) == "28d"
    with pytest.raises(WindowError, match="months vary"):
        windows.rolling_duration("1M")
    with pytest.raises(WindowError, match="longer than 400d"):
        windows.rolling_duration("60w")
    with pytest.raises(WindowError, match="did you mean M"):
        windows.rolling_duration("5m")


def test_a_monthly_period_follows_the_calendar_in_its_time_zone():
    start = datetime(2025, 1, 1, tzinfo=PARIS)
    begin, end = calendar_period(
        start, "Europe/Paris", parse_duration("1M"), datetime(2025, 3, 15, tzinfo=UTC)
    )
    assert begin == datetime(2025, 3, 1, tzinfo=PARIS) and end == datetime(2025, 4, 1, tzinfo=PARIS)
    # March in Paris has 31 days minus the hour lost to summer time.
    assert (end - begin).total_seconds() == 31 * 86400 - 3600


def test_a_period_starting_on_the_31st_clamps_to_short_months():
    start = datetime(2025, 1, 31, 12, tzinfo=UTC)
    begin, end = calendar_period(
        start, "UTC", parse_duration("1M"), datetime(2025, 3, 1, tzinfo=UTC)
    )
    assert begin == datetime(2025, 2, 28, 12, tzinfo=UTC) and end == datetime(
        2025, 3, 31, 12, tzinfo=UTC
    )


def test_the_period_boundary_belongs_to_the_new_period():
    start = datetime(2025, 1, 6, tzinfo=UTC)  # a Monday
    at = datetime(2025, 1, 20, tzinfo=UTC)
    assert calendar_period(start, "UTC", parse_duration("1w"), at)[0] == at


def test_a_start_after_now_counts_back_whole_periods():
    start = datetime(2030, 1, 1, tzinfo=UTC)
    begin, _ = calendar_period(
        start, "UTC", parse_duration("1Q"), datetime(2029, 12, 31, tzinfo=UTC)
    )
    assert begin == datetime(2029, 10, 1, tzinfo=UTC)


def test_promql_ranges_are_whole_units_or_milliseconds():
    assert [promql_duration(s) for s in (300, 86400, 90, 2.5)] == ["5m", "1d", "90s", "2500ms"]
    assert promql_duration(7 * 86400 - 0.001) == "604799999ms"
