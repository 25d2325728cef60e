"""SLO time windows: OpenSLO durations, rolling windows and calendar periods.

Pure helpers with no Django imports. Durations use the OpenSLO v1 shorthand: a whole number and
one unit among m (minute), h, d, w, M (month), Q (quarter), Y (year).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

DURATION_RE = re.compile(r"^([1-9][0-9]{0,4})(m|h|d|w|M|Q|Y)$")
UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
# Nominal lengths used only where a fixed length is needed (alert factors, Prometheus rules).
NOMINAL_SECONDS = {**UNIT_SECONDS, "M": 30 * 86400, "Q": 90 * 86400, "Y": 365 * 86400}
MONTHS = {"M": 1, "Q": 3, "Y": 12}
UNIT_NAMES = {
    "m": "minute",
    "h": "hour",
    "d": "day",
    "w": "week",
    "M": "month",
    "Q": "quarter",
    "Y": "year",
}
ROLLING_UNITS = ("h", "d", "w")
CALENDAR_UNITS = ("d", "w", "M", "Q", "Y")
MIN_WINDOW = 86400
MAX_WINDOW = 400 * 86400


class WindowError(ValueError):
    """A window SSOps cannot use; the message says why and what to write instead."""


@dataclass(frozen=True)
class Duration:
    count: int
    unit: str

    def __str__(self) -> str:
        return f"{self.count}{self.unit}"

    @property
    def nominal_seconds(self) -> int:
        return self.count * NOMINAL_SECONDS[self.unit]

    @property
    def is_calendar_length(self) -> bool:
        return self.unit in MONTHS


def parse_duration(text: str) -> Duration:
    match = DURATION_RE.match(str(text).strip())
    if not match:
        raise WindowError(
            f"{text!r} is not a duration: write a whole number and one unit among "
            "m (minute), h, d, w, M (month), Q (quarter), Y (year), e.g. 30d"
        )
    return Duration(int(match.group(1)), match.group(2))


def _check_length(duration: Duration) -> None:
    seconds = duration.nominal_seconds
    if seconds < MIN_WINDOW:
        hint = " (did you mean M, a month?)" if duration.unit == "m" else ""
        raise WindowError(
            f"{duration} is {duration.count} {UNIT_NAMES[duration.unit]}(s){hint}; "
            "an SLO window lasts from 1d to 400d"
        )
    if seconds > MAX_WINDOW:
        raise WindowError(f"{duration} is longer than 400d; an SLO window lasts from 1d to 400d")


def rolling_duration(text: str) -> Duration:
    duration = parse_duration(text)
    if duration.unit == "m":
        _check_length(duration)
    if duration.unit not in ROLLING_UNITS:
        raise WindowError(
            f"{duration}: a rolling window is counted in h, d or w (months vary in length); "
            "use a calendar window for months, quarters and years"
        )
    _check_length(duration)
    return duration


def calendar_duration(text: str) -> Duration:
    duration = parse_duration(text)
    if duration.unit not in CALENDAR_UNITS:
        raise WindowError(f"{duration}: a calendar window is counted in d, w, M, Q or Y")
    _check_length(duration)
    return duration


def time_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise WindowError(
            f"{name!r} is not a time zone (use an IANA name like Europe/Paris)"
        ) from None


def _add_months(moment: datetime, months: int) -> datetime:
    """Same wall-clock time `months` later, the day clamped to the month's length."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    next_month = datetime(year + month // 12, month % 12 + 1, 1)
    last_day = (next_month - timedelta(days=1)).day
    return moment.replace(year=year, month=month, day=min(moment.day, last_day))


def _shift(start_local: datetime, duration: Duration, periods: int) -> datetime:
    """The start of period number `periods`, in local wall-clock time (days stay days over DST)."""
    if duration.unit in MONTHS:
        return _add_months(start_local, periods * duration.count * MONTHS[duration.unit])
    days = duration.count * (7 if duration.unit == "w" else 1)
    naive = start_local.replace(tzinfo=None) + timedelta(days=periods * days)
    return naive.replace(tzinfo=start_local.tzinfo)


def calendar_period(
    start: datetime, tz_name: str, duration: Duration, at: datetime
) -> tuple[datetime, datetime]:
    """The calendar period [begin, end) that contains `at` (both in UTC).

    Periods follow one another from `start` (a wall-clock time in `tz_name`), each `duration`
    long in local calendar terms.
    """
    tz = time_zone(tz_name)
    start_local = start.astimezone(tz) if start.tzinfo else start.replace(tzinfo=tz)
    at_utc = at.astimezone(UTC)
    guess = int((at_utc - start_local).total_seconds() // duration.nominal_seconds)
    index = guess
    while _shift(start_local, duration, index).astimezone(UTC) > at_utc:
        index -= 1
    while _shift(start_local, duration, index + 1).astimezone(UTC) <= at_utc:
        index += 1
    begin = _shift(start_local, duration, index).astimezone(UTC)
    end = _shift(start_local, duration, index + 1).astimezone(UTC)
    return begin, end


def promql_duration(seconds: float) -> str:
    """A PromQL range for a length in seconds, in whole milliseconds ("30d" stays readable)."""
    millis = round(seconds * 1000)
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if millis % size == 0:
            return f"{millis // size}{unit}"
    return f"{millis}ms"


def merged(intervals) -> list[tuple[float, float]]:
    """Intervals (start, end) sorted, with overlapping ones joined."""
    joined: list[tuple[float, float]] = []
    for start, end in sorted(intervals):
        if end <= start:
            continue
        if joined and start <= joined[-1][1]:
            joined[-1] = (joined[-1][0], max(joined[-1][1], end))
        else:
            joined.append((start, end))
    return joined


def kept_pieces(starts, ends, excluded) -> tuple:
    """What is left of each range [start, end] (arrays, unix seconds) once the `excluded`
    intervals are cut out: (piece starts, piece ends, index of the range each piece belongs
    to). A range untouched by every exclusion is one piece; a range inside one is none. The
    pieces keep their edges (a counter sample at an exclusion's edge still counts at both
    sides, as two Prometheus range selectors meeting there would)."""
    piece_starts = np.asarray(starts, dtype=np.float64)
    piece_ends = np.asarray(ends, dtype=np.float64)
    owners = np.arange(len(piece_starts))
    for cut_start, cut_end in merged(excluded):
        hit = (piece_starts < cut_end) & (piece_ends > cut_start)
        if not hit.any():
            continue
        left = hit & (piece_starts < cut_start)
        right = hit & (piece_ends > cut_end)
        piece_starts, piece_ends, owners = (
            np.concatenate((piece_starts[~hit], piece_starts[left], np.full(right.sum(), cut_end))),
            np.concatenate((piece_ends[~hit], np.full(left.sum(), cut_start), piece_ends[right])),
            np.concatenate((owners[~hit], owners[left], owners[right])),
        )
    order = np.lexsort((piece_starts, owners))
    return piece_starts[order], piece_ends[order], owners[order]
