"""Provisioning's panel on a request's page (catalog.panels): the run, its steps, the resources
made and the one-time secret, refreshed with the page while the run moves."""

from __future__ import annotations

from django.template.loader import render_to_string

from catalog.panels import Panel
from provisioning.selectors import run_panel
from teams import permissions


def run_and_resources(http_request, item) -> Panel:
    panel = run_panel(request=item, user=http_request.user)
    context = {
        "item": item,
        "run_panel": panel,
        "can_cancel_run": permissions.can_cancel(http_request.user, item),
    }
    html = render_to_string("provisioning/_run_panel.html", context, request=http_request)
    return Panel(html=html, live=panel.live)
