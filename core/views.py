"""Liveness and metrics: /healthz (the web process and its database) and /metrics."""

from __future__ import annotations

from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

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
