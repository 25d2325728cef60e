"""Formatting of SLO figures for pages: a missing figure shows as a dash, never as 0 or 100 %."""

from datetime import UTC, datetime

from django import template

from slo.choices import DataStatus

register = template.Library()
DASH = "—"


def _missing(value) -> bool:
    return isinstance(value, bool) or not isinstance(value, int | float)


@register.filter
def percent(value, digits=3):
    if _missing(value):
        return DASH
    return f"{value * 100:.{int(digits)}f} %"


@register.filter
def burn(value):
    return DASH if _missing(value) else f"{value:.2f}×"


@register.filter
def duration(seconds):
    """3 d 4 h, 5 h 12 m, 40 m: a time to exhaustion."""
    if _missing(seconds):
        return DASH
    minutes = int(seconds // 60)
    days, hours, mins = minutes // 1440, minutes % 1440 // 60, minutes % 60
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {mins} m" if hours else f"{mins} m"


@register.filter
def status_colour(value):
    return DataStatus.colour(value)


@register.filter
def get(mapping, key):
    return (mapping or {}).get(key)


@register.filter
def unix_time(seconds):
    """Unix seconds as "YYYY-MM-DD HH:MM" (UTC)."""
    if _missing(seconds):
        return "—"
    return datetime.fromtimestamp(float(seconds), tz=UTC).strftime("%Y-%m-%d %H:%M")
