"""Platform-metric figures for pages (a missing figure shows as a dash, never as 0 or 100 %),
history sparklines, and the rating offered on a finished request's page."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template
from django.utils.html import format_html, format_html_join

from metrics import catalogue
from metrics.choices import MetricStatus
from metrics.periods import Period
from slo.templatetags.slo_format import DASH, _missing, duration

register = template.Library()


def _seconds(value: float) -> str:
    if value < 120:
        return f"{value:.1f}".rstrip("0").rstrip(".") + " s"
    return duration(value)


def format_value(value, unit: str, extras: dict | None = None) -> str:
    if _missing(value):
        return DASH
    if unit == catalogue.RATIO:
        return f"{value * 100:.2f} %"
    if unit == catalogue.SECONDS:
        return _seconds(value)
    if unit == catalogue.MONEY:
        return f"{value:,.2f} {(extras or {}).get('currency', '')}".strip()
    if unit == catalogue.COUNT:
        return f"{value:,.0f}"
    if unit == catalogue.BURN:
        return f"{value:.2f}×"
    if unit == catalogue.NPS:
        return f"{value:+.0f}"
    return f"{value:g}"


@register.simple_tag
def figure_value(figure, metric) -> str:
    """A stored figure's value in its metric's unit."""
    if figure is None:
        return DASH
    return format_value(figure.value, metric.unit, figure.extras)


@register.filter
def value_in(value, metric) -> str:
    return format_value(value, metric.unit)


@register.simple_tag
def target_badge(figure, metric, earlier=None) -> str:
    """met / missed against the target or trend, for the figure it applies to; a trend needs
    the values of the periods before (`earlier`)."""
    target = metric.target
    if figure is None or target is None or (figure.dimension or "") != target.dimension:
        return ""
    return verdict_badge(metric.verdict(figure.value, earlier or []))


@register.simple_tag
def verdict_badge(met) -> str:
    if met is None:
        return ""
    return format_html(
        '<span class="badge {}">{}</span>', "ok" if met else "bad", "met" if met else "missed"
    )


@register.filter
def status_badge_colour(status: str) -> str:
    return MetricStatus.colour(status)


@register.simple_tag
def extras_list(figure, metric) -> str:
    """The figure's other numbers (median, p95, counts…) as a compact list."""
    items = []
    for key, value in (figure.extras or {}).items():
        if key in ("gaps", "currency") or isinstance(value, dict | list):
            continue
        label = key.replace("_", " ")
        if key == "cost":
            shown = f"{_amount(value)} {figure.extras.get('currency', '')}".strip()
        elif (
            isinstance(value, float)
            and key in ("median", "p95", "mean")
            or key.endswith(("_wait", "seconds"))
        ):
            shown = format_value(value, metric.unit, figure.extras)
        elif isinstance(value, float) and key in ("coverage", "budget_remaining"):
            shown = format_value(value, catalogue.RATIO)
        elif isinstance(value, float):
            shown = f"{value:g}"
        else:
            shown = DASH if value is None else str(value)
        items.append((label, shown))
    if figure.extras.get("costs") and "cost" not in figure.extras:
        parts = ", ".join(f"{_amount(v)} {k}" for k, v in figure.extras["costs"].items())
        items.append(("costs", parts))
    if figure.extras.get("outcomes"):
        parts = ", ".join(f"{k} {v}" for k, v in figure.extras["outcomes"].items())
        items.append(("outcomes", parts))
    return format_html_join(", ", "{}: {}", items)


def _amount(text) -> str:
    try:
        return f"{Decimal(str(text)):,.2f}"
    except InvalidOperation:
        return str(text)


@register.filter
def period_label(row) -> str:
    """The label of a stored figure's period (2026-01-07, 2026-W02, 2026-01)."""
    return Period(row.period_kind, row.period_start).label


@register.simple_tag
def sparkline(history, metric, width=160, height=32) -> str:
    """An inline SVG line of the values of past periods (gaps where there is no value)."""
    values = [value for _, value in history]
    present = [v for v in values if not _missing(v)]
    if len(present) < 2:
        return ""
    low, high = min(present), max(present)
    span = (high - low) or 1.0
    step = width / max(len(values) - 1, 1)
    segments, current = [], []
    for index, value in enumerate(values):
        if _missing(value):
            if current:
                segments.append(current)
            current = []
            continue
        y = height - 2 - (value - low) / span * (height - 4)
        current.append(f"{index * step:.1f},{y:.1f}")
    if current:
        segments.append(current)
    lines = format_html_join(
        "",
        '<polyline fill="none" stroke="currentColor" stroke-width="1.5" points="{}"/>',
        ((" ".join(points),) for points in segments),
    )
    label = "; ".join(
        f"{period.label} {format_value(value, metric.unit)}" for period, value in history
    )
    return format_html(
        '<svg class="spark" width="{}" height="{}" viewBox="0 0 {} {}" role="img" '
        'aria-label="{}"><title>{}</title>{}</svg>',
        width,
        height,
        width,
        height,
        label,
        label,
        lines,
    )


@register.inclusion_tag("metrics/_rating_form.html", takes_context=True)
def request_rating(context, item):
    """What the request page offers its requester: nothing while the request is under way
    (the fragment polls until it finishes), then a 1–5 rating (or the rating given)."""
    from metrics.models import SatisfactionRating
    from metrics.services import IN_FLIGHT, rating_offered

    user = context["request"].user
    is_requester = user.is_authenticated and user.pk == item.requester_id
    return {
        "item": item,
        "request": context["request"],
        "csrf_token": context.get("csrf_token"),
        "is_requester": is_requester,
        "in_flight": item.state in IN_FLIGHT,
        "offered": rating_offered(request=item, user=user),
        "rating": SatisfactionRating.objects.filter(request=item).first() if is_requester else None,
        "scores": [(5, "excellent"), (4, "good"), (3, "fair"), (2, "poor"), (1, "bad")],
    }
