"""Planned maintenance: when a budget adjustment's windows fall (no Django imports).

A window is one-off (a start and a length) or recurring: an RFC 5545 RRULE, as in iCalendar,
from its first start (times in UTC), each occurrence as long as the first. Events inside a window
do not count toward the SLI and alerts do not fire (docs/slos.md, "Planned maintenance").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from dateutil import rrule as rrules

# Nobody plans maintenance every minute; such a rule is a typo that would blank the SLO out.
REFUSED_FREQUENCIES = ("SECONDLY", "MINUTELY")
MAX_OCCURRENCES = 10_000
MAX_LENGTH = timedelta(days=7)


class MaintenanceError(ValueError):
    """A schedule SSOps cannot use; the message says why, `part` which part of it is wrong
    ("start", "length" or "rrule")."""

    def __init__(self, message: str, part: str = "rrule"):
        super().__init__(message)
        self.part = part


def parse_rrule(text: str, first_start: datetime) -> rrules.rrule:
    """The recurrence rule `text` (RRULE, with or without the `RRULE:` prefix) from the first
    start; MaintenanceError when it is not one."""
    body = text.strip()
    if body.upper().startswith("RRULE:"):
        body = body[6:]
    if not body:
        raise MaintenanceError("the recurrence rule is empty")
    if any(part in body.upper() for part in ("DTSTART", "EXDATE", "RDATE", "\n")):
        raise MaintenanceError(
            "give one RRULE (e.g. FREQ=WEEKLY;BYDAY=SU;BYHOUR=2); the first start is its own field"
        )
    try:
        rule = rrules.rrulestr(body, dtstart=first_start.astimezone(UTC), forceset=False)
    except (ValueError, TypeError) as exc:
        raise MaintenanceError(f"{text!r} is not an RFC 5545 RRULE: {exc}") from None
    if not isinstance(rule, rrules.rrule):
        raise MaintenanceError(f"{text!r} is not one RRULE")
    frequency = _part(body, "FREQ")
    if frequency in REFUSED_FREQUENCIES:
        raise MaintenanceError(
            f"FREQ={frequency} is too frequent for maintenance: use HOURLY or less"
        )
    return rule


def _part(body: str, name: str) -> str:
    """The value of one NAME=value part of an RRULE ("" when absent)."""
    for part in body.upper().split(";"):
        key, _, value = part.partition("=")
        if key.strip() == name:
            return value.strip()
    return ""


@dataclass(frozen=True)
class Schedule:
    """When the windows of one adjustment fall: from `start`, `length` long, recurring by
    `rrule` when it is set."""

    start: datetime
    length: timedelta
    rrule: str = ""

    def check(self) -> None:
        if self.start.tzinfo is None:
            raise MaintenanceError("the start needs a time zone offset, e.g. Z", "start")
        if self.length <= timedelta(0):
            raise MaintenanceError("a window ends after it starts", "length")
        if self.length > MAX_LENGTH:
            raise MaintenanceError("a window lasts at most 7 days (split a longer one)", "length")
        if self.rrule:
            parse_rrule(self.rrule, self.start)

    def windows(self, since: datetime, until: datetime) -> list[tuple[datetime, datetime]]:
        """The windows that overlap [since, until], oldest first."""
        if not self.rrule:
            end = self.start + self.length
            return [(self.start, end)] if self.start < until and end > since else []
        rule = parse_rrule(self.rrule, self.start)
        found = []
        for begin in rule.xafter(since - self.length, count=MAX_OCCURRENCES, inc=True):
            if begin >= until:
                break
            end = begin + self.length
            if end > since:
                found.append((begin, end))
        return found

    def next_window(self, after: datetime) -> tuple[datetime, datetime] | None:
        """The first window that ends after `after`."""
        if not self.rrule:
            end = self.start + self.length
            return (self.start, end) if end > after else None
        rule = parse_rrule(self.rrule, self.start)
        begin = rule.after(after - self.length, inc=False)
        return (begin, begin + self.length) if begin else None

    @property
    def last_end(self) -> datetime | None:
        """When the last window ends; None for a rule without end."""
        if not self.rrule:
            return self.start + self.length
        rule = parse_rrule(self.rrule, self.start)
        if not (_part(self.rrule, "COUNT") or _part(self.rrule, "UNTIL")):
            return None
        last = None
        for last in rule:  # noqa: B007 (a bounded rule: COUNT or UNTIL)
            pass
        return last + self.length if last else None
