"""Reporting periods of the platform metrics: UTC days, ISO weeks (Monday to Sunday) and
calendar months. No Django imports."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

DAY, WEEK, MONTH = "day", "week", "month"
KINDS = (DAY, WEEK, MONTH)
WEEK_RE = re.compile(r"^(\d{4})-W(\d{2})$")
MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


class PeriodError(ValueError):
    """A period SSOps cannot read; the message says what to write instead."""


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _month_after(start: datetime) -> datetime:
    return start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)


@dataclass(frozen=True, order=True)
class Period:
    kind: str
    start: datetime

    @property
    def end(self) -> datetime:
        """Exclusive end."""
        if self.kind == DAY:
            return self.start + timedelta(days=1)
        if self.kind == WEEK:
            return self.start + timedelta(days=7)
        return _month_after(self.start)

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()

    @property
    def label(self) -> str:
        if self.kind == DAY:
            return f"{self.start:%Y-%m-%d}"
        if self.kind == WEEK:
            year, week, _ = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{self.start:%Y-%m}"

    def __str__(self) -> str:
        return self.label

    def previous(self) -> Period:
        return period_containing(self.kind, self.start - timedelta(seconds=1))

    def next(self) -> Period:
        return Period(self.kind, self.end)

    def contains(self, moment: datetime) -> bool:
        return self.start <= _utc(moment) < self.end

    def elapsed_end(self, now: datetime) -> datetime:
        """The end of what has happened of the period by `now` (its end once it is over)."""
        return min(self.end, max(self.start, _utc(now)))


def period_containing(kind: str, moment: datetime) -> Period:
    if kind not in KINDS:
        raise PeriodError(f"{kind!r} is not a period: use day, week or month")
    at = _utc(moment)
    day = at.replace(hour=0, minute=0, second=0, microsecond=0)
    if kind == DAY:
        return Period(DAY, day)
    if kind == WEEK:
        return Period(WEEK, day - timedelta(days=day.weekday()))
    return Period(MONTH, day.replace(day=1))


def period_parse(kind: str, text: str) -> Period:
    """A period from its label (2026-01-05, 2026-W02, 2026-01) or any date inside it."""
    text = (text or "").strip()
    try:
        if kind == WEEK and (match := WEEK_RE.match(text)):
            monday = date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
            return Period(WEEK, datetime(monday.year, monday.month, monday.day, tzinfo=UTC))
        if kind == MONTH and (match := MONTH_RE.match(text)):
            return Period(MONTH, datetime(int(match.group(1)), int(match.group(2)), 1, tzinfo=UTC))
        return period_containing(kind, datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError as exc:
        if isinstance(exc, PeriodError):
            raise
        example = {DAY: "2026-01-05", WEEK: "2026-W02", MONTH: "2026-01"}.get(kind, "2026-01-05")
        raise PeriodError(
            f"{text!r} is not a {kind}: write e.g. {example}, or a date inside the {kind}"
        ) from None


def periods_ending(kind: str, moment: datetime, count: int) -> list[Period]:
    """The `count` periods up to the one containing `moment`, oldest first."""
    period = period_containing(kind, moment)
    found = [period]
    for _ in range(count - 1):
        period = period.previous()
        found.append(period)
    return found[::-1]


def quarter_of(moment: datetime) -> str:
    """The calendar quarter (UTC) a moment falls in, e.g. 2026-Q1."""
    at = _utc(moment)
    return f"{at.year}-Q{(at.month - 1) // 3 + 1}"
