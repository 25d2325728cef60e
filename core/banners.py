"""Notices at the top of every page, under the header: each app registers a function that gets
the HTTP request and gives the notice's HTML or None (in its AppConfig.ready), so that the
site's layout, which lives here at the bottom of the house, names no app above it. They are
worked out only when a page prints them (not for fragments that htmx fetches)."""

from __future__ import annotations

from collections.abc import Callable

from django.utils.safestring import SafeString

Banner = Callable[..., "SafeString | None"]
BANNERS: list[Banner] = []


def register(banner: Banner) -> None:
    if banner not in BANNERS:
        BANNERS.append(banner)


def shown(request) -> list[SafeString]:
    found = (banner(request) for banner in BANNERS)
    return [html for html in found if html]
