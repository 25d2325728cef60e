from django import template

from catalog.choices import RequestState
from core import badges

register = template.Library()


@register.filter
def badge(value) -> str:
    """The badge colour class (ok, warn, bad) for a state, tier, mode or outcome."""
    return badges.badge(value)


@register.filter
def state_label(value) -> str:
    try:
        return RequestState(value).label
    except ValueError:
        return str(value).replace("_", " ").capitalize()


@register.filter
def hours(value) -> str:
    """48 → '2 days', 6 → '6 hours'."""
    value = int(value or 0)
    if value and value % 168 == 0:
        weeks = value // 168
        return f"{weeks} week{'s' if weeks != 1 else ''}"
    if value and value % 24 == 0:
        days = value // 24
        return f"{days} day{'s' if days != 1 else ''}"
    return f"{value} hour{'s' if value != 1 else ''}"


@register.filter
def milliseconds(value) -> str:
    """1234.5 → '1.2 s', 80 → '80 ms', None → '—'."""
    if value is None:
        return "—"
    value = float(value)
    return f"{value / 1000:.1f} s" if value >= 1000 else f"{value:.0f} ms"


@register.filter
def seconds(value) -> str:
    """A duration in seconds as '12.3 s' or '4 min 5 s'."""
    if value is None:
        return "—"
    value = float(value)
    if value < 60:
        return f"{value:.1f} s"
    return f"{int(value // 60)} min {int(value % 60)} s"
