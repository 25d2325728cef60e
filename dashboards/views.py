"""Dashboard pages. Each view checks who may see what (through the selectors' scope), builds
its page from stored results and renders it — or one of its tables as CSV (`?format=csv&table=`).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from dashboards.pages import Page, debug_page, executive_page, oncall_page, slo_page
from dashboards.selectors.common import time_range
from dashboards.selectors.debug import debug_request
from dashboards.tables import csv_response
from slo.selectors import slo_get_visible


def _respond(request, page: Page, template: str):
    if request.GET.get("format") == "csv":
        return csv_response(list(page.tables.values()), request.GET.get("table", ""), page.filename)
    query = request.GET.copy()
    for key in ("format", "table"):
        query.pop(key, None)
    return render(request, template, {"page": page, "query": query.urlencode(), **page.context})


@login_required
@require_GET
def executive(request):
    page = executive_page(user=request.user, span=time_range(request.GET.get("days")))
    return _respond(request, page, "dashboards/executive.html")


@login_required
@require_GET
def oncall(request):
    page = oncall_page(user=request.user)
    live = request.headers.get("HX-Request") == "true"
    return _respond(
        request, page, "dashboards/_oncall_live.html" if live else "dashboards/oncall.html"
    )


@login_required
@require_GET
def debug(request, uuid):
    page = debug_page(request=debug_request(user=request.user, uuid=uuid))
    return _respond(request, page, "dashboards/debug.html")


@login_required
@require_GET
def slo(request, key: str):
    page = slo_page(slo=slo_get_visible(user=request.user, key=key))
    return _respond(request, page, "dashboards/slo.html")


@login_required
@require_GET
def home(request):
    """The start page: where each kind of user goes next."""
    return render(request, "dashboards/home.html")
