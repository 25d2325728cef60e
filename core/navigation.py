"""The main navigation: each app registers its entries (in its AppConfig.ready), so that the
site's layout, which lives here at the bottom of the house, names no app above it."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    order: int


ITEMS: list[NavItem] = []


def register(label: str, url_name: str, *, order: int) -> None:
    ITEMS[:] = sorted({*ITEMS, NavItem(label, url_name, order)}, key=lambda item: item.order)


def entries() -> list[tuple[str, str]]:
    """(label, path) of every entry, in order."""
    return [(item.label, reverse(item.url_name)) for item in ITEMS]
