"""What every dashboard read shares: who sees what (the scope) and the time range."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from teams import permissions

RANGES = (7, 30, 90)
DEFAULT_RANGE = 30


@dataclass(frozen=True)
class Scope:
    """Executives, on-call and platform admins see every team and the totals; everyone else
    sees their own teams."""

    everything: bool
    team_ids: frozenset[int]

    def teams(self, queryset: QuerySet, field: str = "team_id") -> QuerySet:
        if self.everything:
            return queryset
        return queryset.filter(**{f"{field}__in": self.team_ids})

    @property
    def label(self) -> str:
        return "all teams" if self.everything else "your teams"


def scope_of(user) -> Scope:
    return Scope(
        everything=permissions.sees_everything(user) or permissions.is_oncall(user),
        team_ids=frozenset(permissions.team_ids(user)),
    )


@dataclass(frozen=True)
class TimeRange:
    """The last `days` UTC days, today included."""

    days: int
    now: datetime

    @property
    def first_day(self) -> date:
        return self.now.astimezone(UTC).date() - timedelta(days=self.days - 1)

    @property
    def start(self) -> datetime:
        first = self.first_day
        return datetime(first.year, first.month, first.day, tzinfo=UTC)

    def day_list(self) -> list[date]:
        first = self.first_day
        return [first + timedelta(days=n) for n in range(self.days)]


def time_range(text: str | None, now: datetime | None = None) -> TimeRange:
    """7, 30 or 90 days from the query string; anything else gives the default (30)."""
    days = int(text) if text and text.isdigit() and int(text) in RANGES else DEFAULT_RANGE
    return TimeRange(days, now or timezone.now())
