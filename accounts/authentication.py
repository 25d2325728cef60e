"""The API's token authentication: `Authorization: Token KEY` (or `Bearer KEY`).

A key is looked up by its digest. An expired or revoked token is refused with 401, recorded in
the audit store once per token and hour (the refusal middleware leaves these to this class);
an unknown key is refused with 401 and recorded by that middleware (`authn.failed`). A token is
also held to its scopes: a call that needs a scope the token lacks is refused with 403 and an
`authz.denied` event — here, where every call with a token passes, so that no view can forget.

What a call needs: `read` for GET, HEAD and OPTIONS; `write` for every other method; `approve`
for the actions a view names in its `token_scopes` (`{"approve": "approve"}`), so that a view
declares it without importing this module.
"""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import SAFE_METHODS

from accounts import services
from accounts.choices import TokenScope
from accounts.keys import key_digest
from accounts.models import ApiToken
from audit.authz import RECORDED_BY_AUTHENTICATION
from audit.services import audit_record

KEYWORD = "Token"  # also accepted: Bearer
KEYWORDS = {KEYWORD.lower(), "bearer"}
MAX_KEY = 200


def required_scope(request) -> str:
    if request.method in SAFE_METHODS:
        return TokenScope.READ
    view = (getattr(request, "parser_context", None) or {}).get("view")
    declared = getattr(view, "token_scopes", None) or {}
    return declared.get(getattr(view, "action", None), TokenScope.WRITE)


def _where(request) -> dict:
    return {
        "method": request.method,
        "path": request.path[:300],
        "ip": request.META.get("REMOTE_ADDR", ""),
    }


class ApiTokenAuthentication(BaseAuthentication):
    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].decode(errors="replace").lower() not in KEYWORDS:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Invalid token header: use 'Authorization: Token KEY', with no spaces in KEY."
            )
        try:
            key = header[1].decode()
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid token: not text.") from None
        if len(key) > MAX_KEY:
            raise exceptions.AuthenticationFailed("Invalid token.")
        token = (
            ApiToken.objects.select_related("user", "team")
            .filter(key_digest=key_digest(key))
            .first()
        )
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        self._refuse_if_stopped(request, token)
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        self._hold_to_scopes(request, token)
        services.token_use_record(token=token, where=_where(request))
        return token.user, token

    def _refuse_if_stopped(self, request, token: ApiToken) -> None:
        now = timezone.now()
        if token.revoked_at is not None:
            reason, message = "revoked", f"Token revoked on {token.revoked_at:%Y-%m-%d %H:%M} UTC."
        elif token.expires_at <= now:
            reason, message = "expired", f"Token expired on {token.expires_at:%Y-%m-%d %H:%M} UTC."
        else:
            return
        services.token_refusal_record(token=token, reason=reason, where=_where(request))
        raise exceptions.AuthenticationFailed(message, code=RECORDED_BY_AUTHENTICATION)

    def _hold_to_scopes(self, request, token: ApiToken) -> None:
        scope = required_scope(request)
        if token.allows(scope):
            return
        message = (
            f"This token's scopes ({', '.join(token.scopes)}) do not include {scope}, which "
            f"{request.method} here needs."
        )
        view = request.parser_context.get("view") if request.parser_context else None
        match = getattr(request, "resolver_match", None)
        audit_record(
            action="authz.denied",
            actor=token.user,
            object_type="http.view",
            object_id=match.view_name if match and match.view_name else "",
            payload={
                "method": request.method,
                "path": request.path[:300],
                "view": match.view_name if match and match.view_name else type(view).__name__,
                "status": 403,
                "reason": message,
            },
        )
        raise exceptions.PermissionDenied(message)

    def authenticate_header(self, request):
        return KEYWORD


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """The token in the OpenAPI schema (`tokenAuth`), beside the session cookie."""

    target_class = ApiTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(
            header_name="Authorization", token_prefix=KEYWORD
        )
