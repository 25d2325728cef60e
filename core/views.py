"""Liveness and metrics: /healthz (the web process and its database) and /metrics; the 404
answer of URLs that match no route."""

from __future__ import annotations

from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.defaults import page_not_found

from core.metrics import exposition


@never_cache
@require_GET
def healthz(request):
    """200 when the web process and its database answer; 503 otherwise."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return JsonResponse({"status": "error", "database": type(exc).__name__}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


@never_cache
@require_GET
def metrics(request):
    body, content_type = exposition()
    return HttpResponse(body, content_type=content_type)


def not_found(request, exception):
    """A URL no route matches: under /api/ a JSON answer like the API's own 404s (a client
    reads `detail` whatever the URL it got wrong), Django's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"detail": "Not found: no API endpoint or object at this URL."}, status=404
        )
    return page_not_found(request, exception)
