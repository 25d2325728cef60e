"""The metrics app's panel on a request's page (catalog.panels): the requester's rating (M12)."""

from __future__ import annotations

from django.template.loader import render_to_string

from catalog.panels import Panel


def rating(http_request, item) -> Panel:
    html = render_to_string("metrics/_request_rating.html", {"item": item}, request=http_request)
    return Panel(html=html)
