"""The pure parts behind backtests, the guard and maintenance (no Django, no Prometheus): the
vectorised increase equals the one-range port at every range, the guard's defaults, the pieces
maintenance leaves of a window, which expressions count events, recurring schedules, episodes."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slo import maths
from slo.backtest import runs, timeline
from slo.expressions import EVENTS, PER_SECOND, window_unit
from slo.maintenance import MaintenanceError, Schedule
from slo.windows import kept_pieces, merged


@st.composite
def counter_and_ranges(draw):
    """A counter scraped with jitter and gaps, whole-number increments and resets, and ranges
    of any length over it."""
    count = draw(st.integers(2, 60))
    gaps = draw(st.lists(st.integers(1_000, 120_000), min_size=count, max_size=count))
    stamps = np.cumsum(gaps).astype(np.int64)
    values, value = [], float(draw(st.integers(0, 50)))
    for _ in range(count):
        if draw(st.integers(0, 9)) == 0:
            value = float(draw(st.integers(0, 5)))  # a restart: the counter begins again
        else:
            value += draw(st.integers(0, 400))
        values.append(value)
    ranges = draw(
        st.lists(
            st.tuples(
                st.integers(int(stamps[0]) - 200_000, int(stamps[-1]) + 200_000),
                st.integers(1, 3_600_000),
            ),
            min_size=1,
            max_size=30,
        )
    )
    return stamps, np.array(values), ranges


@settings(max_examples=300, deadline=None)
@given(counter_and_ranges())
def test_the_vectorised_increase_is_the_one_range_port_at_every_range(drawn):
    stamps, values, ranges = drawn
    starts = np.array([start for start, _ in ranges], dtype=np.int64)
    ends = starts + np.array([length for _, length in ranges], dtype=np.int64)
    found = maths.increases_between(stamps, values, starts, ends)
    for index, (start, end) in enumerate(zip(starts, ends, strict=True)):
        inside = (stamps >= start) & (stamps <= end)  # [start, end]: Prometheus 2.x's range
        one = maths.extrapolated_increase(stamps[inside], values[inside], int(start), int(end))
        if one is None:
            assert math.isnan(found[index])
        else:
            assert found[index] == one, (start, end)


@pytest.mark.parametrize(
    ("objective", "expected"),
    # 2,001 rather than 2,000 at 99.95 %: in binary floating point 1 - 0.9995 is a hair under
    # 0.0005, and one bad event in exactly 2,000 burns 1.0000000000001, above the 3d ticket's 1.
    [(0.999, [70, 167, 334, 1000]), (0.99, [7, 17, 34, 100]), (0.9995, [139, 334, 667, 2001])],
)
def test_the_guards_default_is_the_events_at_which_one_failure_cannot_alert(objective, expected):
    alerts = maths.alert_thresholds(maths.PERIOD_30D)
    found = [maths.min_events_default(a.burn_rate_threshold, objective) for a in alerts]
    assert found == expected
    for alert, needed in zip(alerts, found, strict=True):
        one_failure = 1 / needed / (1 - objective)
        assert one_failure <= alert.burn_rate_threshold  # alone, it does not fire
        assert 1 / (needed - 1) / (1 - objective) > alert.burn_rate_threshold


def test_the_guard_holds_an_alert_short_of_events_and_says_so():
    burns = dict.fromkeys(maths.BURN_WINDOWS, 20.0)
    events = {"1h": 50, "6h": 400, "1d": 2000, "3d": 6000}
    firing, held, short = maths.alerts_guarded(burns, maths.PERIOD_30D, events, 0.999)
    assert [(a.long_window) for a in held] == ["1h"] and [a.long_window for a in short] == ["1h"]
    assert [a.long_window for a in firing] == ["6h", "1d", "3d"]
    # No event at all is not low traffic (no burn rate either), and 0 turns the guard off.
    assert maths.alerts_guarded(burns, maths.PERIOD_30D, {"1h": 0}, 0.999)[2] == []
    assert maths.alerts_guarded(burns, maths.PERIOD_30D, events, 0.999, 0)[1] == []


def test_maintenance_leaves_the_pieces_around_it():
    starts, ends, owners = kept_pieces([0, 100, 500, 0], [1000, 300, 600, 150], [(200, 400)])
    pieces = sorted(zip(owners.tolist(), starts.tolist(), ends.tolist(), strict=True))
    assert pieces == [
        (0, 0.0, 200.0),
        (0, 400.0, 1000.0),  # a window around the maintenance: the two sides
        (1, 100.0, 200.0),  # it ends inside: the part before
        (2, 500.0, 600.0),  # untouched
        (3, 0.0, 150.0),  # untouched
    ]
    _, _, inside = kept_pieces([250], [350], [(200, 400)])
    assert inside.size == 0  # wholly inside: nothing left, no data
    assert merged([(5, 9), (1, 3), (2, 6)]) == [(1, 9)]


@pytest.mark.parametrize(
    ("query", "unit"),
    [
        ('sum(rate(x_total{code="500"}[{{.window}}]))', PER_SECOND),
        ("sum(increase(x_total[{{ .window }}])) or on() vector(0)", EVENTS),
        ("sum by (node) (count_over_time(up[{{.window}}]))", EVENTS),
        ("sum(rate(a[{{.window}}])) + sum(increase(b[{{.window}}]))", ""),  # mixed units
        ("sum_over_time((count(up == 0))[{{.window}}:])", ""),  # a subquery's points
        ("clamp_min(sum(rate(a[{{.window}}])), 0)", ""),
        ("avg(rate(a[{{.window}}]))", ""),
        ("sum(rate(a[5m]))", ""),  # not over the window
    ],
)
def test_which_expressions_count_events(query, unit):
    assert window_unit(query) == unit


def test_a_recurring_window_follows_its_rrule_in_utc():
    first = datetime(2026, 1, 4, 2, tzinfo=UTC)  # a Sunday
    weekly = Schedule(first, timedelta(hours=2), "RRULE:FREQ=WEEKLY;BYDAY=SU;COUNT=3")
    weekly.check()
    found = weekly.windows(datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC))
    assert [start.day for start, _ in found] == [11, 18]
    assert weekly.next_window(datetime(2026, 1, 4, 3, tzinfo=UTC)) == (
        first,
        first + timedelta(hours=2),
    )
    assert weekly.last_end == datetime(2026, 1, 18, 4, tzinfo=UTC)
    assert Schedule(first, timedelta(hours=1), "FREQ=DAILY").last_end is None


@pytest.mark.parametrize(
    ("rrule", "length", "part", "message"),
    [
        ("FREQ=MINUTELY", timedelta(hours=1), "rrule", "too frequent"),
        ("FREQ=WEEKLYY", timedelta(hours=1), "rrule", "not an RFC 5545 RRULE"),
        ("DTSTART:20260101T000000Z\nRRULE:FREQ=DAILY", timedelta(hours=1), "rrule", "one RRULE"),
        ("", timedelta(0), "length", "ends after it starts"),
        ("", timedelta(days=8), "length", "at most 7 days"),
    ],
)
def test_a_schedule_ssops_cannot_use_is_refused_naming_the_part(rrule, length, part, message):
    with pytest.raises(MaintenanceError, match=message) as refused:
        Schedule(datetime(2026, 1, 4, tzinfo=UTC), length, rrule).check()
    assert refused.value.part == part


def test_episodes_are_runs_of_minutes_on_whole_steps():
    assert runs(np.array([0, 1, 1, 0, 1, 0, 0, 1], dtype=bool)) == [(1, 2), (4, 4), (7, 7)]
    moments = timeline(1_767_225_630, 1)  # ends on the last whole minute, both ends included
    assert moments[-1] == 1_767_225_600 and moments[0] == 1_767_225_600 - 86400
    assert len(moments) == 1441 and set(np.diff(moments)) == {60}
