"""Figures as the dashboards show them: a missing figure is a dash, never 0 or 100 %."""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse

from metrics import catalogue
from slo.templatetags.slo_format import DASH, burn, duration, percent

__all__ = ["DASH", "burn", "duration", "metric_text", "money", "optional_url", "percent"]


def money(amount, currency: str = "") -> str:
    if amount is None:
        return DASH
    return f"{float(amount):,.2f} {currency}".strip()


def metric_text(value, metric: catalogue.Metric, extras: dict | None = None) -> str:
    """A platform metric's stored value in its unit."""
    if value is None:
        return DASH
    unit = metric.unit
    if unit == catalogue.RATIO:
        return percent(value, 2)
    if unit == catalogue.SECONDS:
        return f"{value:.1f} s" if value < 120 else duration(value)
    if unit == catalogue.MONEY:
        return money(value, (extras or {}).get("currency", ""))
    if unit == catalogue.BURN:
        return burn(value)
    if unit == catalogue.NPS:
        return f"{value:+.0f}"
    return f"{value:,.0f}"


def optional_url(name: str, *args) -> str:
    """The URL of a page another part of SSOps serves, or "" where it is not there."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""
