"""Authorization failures in the audit store (OWASP ASVS V8 and V16).

One middleware watches every answer and records, with the request id the audit store adds:

- `authz.denied` — a 403 to a signed-in caller: a page's or a service's PermissionDenied, a DRF
  permission class, a CSRF failure. Actor, method, path, view name and the refusal's message.
- `authz.hidden` — a 404 on a URL that names an object (HIDDEN_OBJECTS) for a signed-in caller
  when the object exists: it belongs to someone the caller may not see, and the view hid it.
  Missing objects are not recorded. The event has no actor (the caller is in the payload) and
  no team, so that only platform admins and executives read it: a caller who finds their own
  `authz.hidden` event in the audit list would learn that the object exists.
- `authn.failed` — a 401 from the API when the caller sent credentials (a wrong token), like a
  failed login. The credential itself is never kept. A refusal the authentication class
  records itself (an expired or revoked token: once per token and hour, not once per call)
  carries the code RECORDED_BY_AUTHENTICATION and is left to it.

Not recorded: anonymous callers without credentials (a page redirects them to the login, the
API answers 401) and 404s of missing pages; both are counted by status in
`ssops_http_requests_total`. Query strings and bodies are never recorded.
"""

from __future__ import annotations

import logging
import uuid

from django.core.exceptions import PermissionDenied
from django.db import DatabaseError

from audit.services import audit_record

logger = logging.getLogger(__name__)

MAX_TEXT = 300
# The code of a 401 whose authentication class recorded the refusal itself (rate-limited).
RECORDED_BY_AUTHENTICATION = "authn_recorded"

# URL name → (model, URL keyword, the fields its value may match). Every URL whose view answers
# 404 for an object the caller may not see is registered here by the app that serves it, in its
# AppConfig.ready (tests/core/test_authz_matrix.py checks this against its table); templates,
# runbooks, policies and metrics are readable by everyone signed in, so a 404 there means missing.
HIDDEN_OBJECTS: dict[str, tuple[type, str, tuple[str, ...]]] = {}


def register_hidden_objects(model, keyword: str, fields: tuple[str, ...], url_names) -> None:
    """Declare that these URLs name an object of `model` by `keyword`, matched on `fields`."""
    for name in url_names:
        HIDDEN_OBJECTS[name] = (model, keyword, fields)


class AuthzAuditMiddleware:
    """Records authorization failures (see the module's docstring). Placed after the
    authentication middleware, inside the request-id middleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        try:
            _audit(request, response)
        except DatabaseError:
            # The caller still gets their answer; the failure to record it is logged loudly.
            logger.exception(
                "could not audit the %s answer to %s", response.status_code, _view(request)
            )
        return response

    def process_exception(self, request, exception):
        if isinstance(exception, PermissionDenied):
            request.authz_reason = str(exception)
        return None


def _view(request) -> str:
    match = getattr(request, "resolver_match", None)
    return match.view_name if match and match.view_name else ""


def _reason(request, response) -> str:
    reason = getattr(request, "authz_reason", "")
    data = getattr(response, "data", None)  # a DRF answer keeps what it rendered
    if not reason and isinstance(data, dict) and "detail" in data:
        reason = str(data["detail"])
    return reason[:MAX_TEXT]


def _where(request, response) -> dict:
    return {
        "method": request.method,
        "path": request.path[:MAX_TEXT],
        "view": _view(request),
        "status": response.status_code,
    }


def _audit(request, response) -> None:
    status = response.status_code
    if status not in (401, 403, 404):
        return
    user = getattr(request, "user", None)
    signed_in = user is not None and user.is_authenticated
    if status == 403 and signed_in:
        audit_record(
            action="authz.denied",
            actor=user,
            object_type="http.view",
            object_id=_view(request),
            payload={**_where(request, response), "reason": _reason(request, response)},
        )
    elif status == 404 and signed_in:
        found = hidden_object(request)
        if found is not None:
            audit_record(
                action="authz.hidden",
                obj=found,
                payload={
                    **_where(request, response),
                    "user": user.get_username(),
                    "user_id": user.pk,
                },
            )
    elif (
        status == 401
        and request.headers.get("Authorization")
        and _code(response) != RECORDED_BY_AUTHENTICATION
    ):
        scheme = request.headers["Authorization"].split(" ", 1)[0][:20]
        audit_record(
            action="authn.failed",
            object_type="http.view",
            object_id=_view(request),
            payload={
                **_where(request, response),
                "scheme": scheme,
                "reason": _reason(request, response),
                "ip": request.META.get("REMOTE_ADDR", ""),
            },
        )


def _code(response) -> str:
    data = getattr(response, "data", None)
    detail = data.get("detail") if isinstance(data, dict) else None
    return str(getattr(detail, "code", ""))


def hidden_object(request):
    """The object a 404 hid from the caller (it exists), or None when it is missing or the URL
    names no object."""
    match = getattr(request, "resolver_match", None)
    known = HIDDEN_OBJECTS.get(match.view_name) if match else None
    if known is None:
        return None
    model, keyword, fields = known
    value = str(match.kwargs.get(keyword, ""))
    for field in fields:
        if field == "uuid":
            try:
                uuid.UUID(value)
            except ValueError:
                continue
        found = model._default_manager.filter(**{field: value}).first()
        if found is not None:
            return found
    return None
