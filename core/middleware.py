"""Request id, request metrics, security headers, and the refusal of NUL characters."""

from __future__ import annotations

import io
import json
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpResponseBadRequest, JsonResponse, QueryDict
from django.http.multipartparser import MultiPartParserError

from core import context, request_counts
from core.metrics import HTTP_DURATION, HTTP_REQUESTS

REQUEST_ID_HEADER = "X-Request-ID"
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RequestIdMiddleware:
    """Accept a caller's X-Request-ID (or make one), expose it to logs and audit, echo it back."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = context.clean_request_id(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = request_id
        token = context.set_request_id(request_id)
        try:
            response = self.get_response(request)
        finally:
            context.reset_request_id(token)
        response[REQUEST_ID_HEADER] = request_id
        return response


class MetricsMiddleware:
    """Count and time every request by its resolved view name (bounded label values)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = match.view_name if match and match.view_name else "unmatched"
        method = request.method if request.method in KNOWN_METHODS else "other"
        status = str(response.status_code)
        seconds = time.perf_counter() - started
        HTTP_REQUESTS.labels(view=view, method=method, status=status).inc()
        if request_counts.is_api(view):
            # SSOps's own record, for when there is no Prometheus.
            request_counts.count(view, method, status, seconds=seconds)
        HTTP_DURATION.labels(view=view, method=method).observe(seconds)
        return response


# No inline scripts anywhere: pages pass data with json_script and draw with static files.
# Styles allow 'unsafe-inline' because Plotly and htmx inject <style> elements at run time.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def content_security_policy() -> str:
    """The policy, letting forms lead to the identity provider when one is configured: sign-out
    posts to SSOps, which redirects to the provider's end-session endpoint (RP-initiated
    logout), and browsers apply form-action along the redirect."""
    issuer = urlsplit(getattr(settings, "OIDC_ISSUER", "") or "")
    if not issuer.netloc:
        return CONTENT_SECURITY_POLICY
    return CONTENT_SECURITY_POLICY.replace(
        "form-action 'self'", f"form-action 'self' {issuer.scheme}://{issuer.netloc}"
    )


class SecurityHeadersMiddleware:
    """Content-Security-Policy and related headers on every response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", content_security_policy())
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"
        )
        return response


FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


def _json_place(data) -> str:
    """Where in a parsed JSON body a NUL character is (a key or a text), or ""."""
    pending = [("the body", data)]
    while pending:
        where, value = pending.pop()
        if isinstance(value, str) and "\x00" in value:
            return where
        if isinstance(value, dict):
            for key, item in value.items():
                if "\x00" in key:
                    return f"{where}, a key"
                pending.append((f"{where}, field {key!r}", item))
        elif isinstance(value, list):
            pending += [(f"{where}, item {i}", item) for i, item in enumerate(value)]
    return ""


def _form_fields(request) -> QueryDict:
    """The form fields of a POST, PUT or PATCH (Django parses them for POST only; the API's
    parsers read them for the other two as well)."""
    if request.method == "POST":
        return request.POST
    if request.content_type == "application/x-www-form-urlencoded":
        return QueryDict(request.body, encoding=request.encoding)
    try:
        fields, _files = request.parse_file_upload(request.META, io.BytesIO(request.body))
    except MultiPartParserError:
        return QueryDict()  # unreadable: the API's parser says so
    return fields


def nul_place(request) -> str:
    """Which part of the request holds a NUL character (U+0000), or ""."""
    if "\x00" in request.path:
        return "the URL path"
    for name, values in request.GET.lists():
        if "\x00" in name or any("\x00" in value for value in values):
            return f"the query parameter {name!r}"
    if request.method in ("POST", "PUT", "PATCH") and request.content_type in FORM_TYPES:
        for name, values in _form_fields(request).lists():
            if "\x00" in name or any("\x00" in value for value in values):
                return f"the form field {name!r}"
    elif request.content_type == "application/json" and b"\\u0000" in request.body:
        try:
            return _json_place(json.loads(request.body))
        except (ValueError, RecursionError):
            return ""  # not JSON: the API's parser says so
    return ""


class RefuseNulMiddleware:
    """400 naming the place for a NUL character in the path, the query or the form or JSON
    fields: PostgreSQL can neither store nor compare one, so it would fail deep inside a view
    (a 500), and SQLite would store it. File uploads are checked by their readers."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        place = nul_place(request)
        if place:
            message = f"Refused: {place} contains a NUL character (U+0000)."
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": message}, status=400)
            return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
