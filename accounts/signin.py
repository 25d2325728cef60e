"""Sign-in pages: the login page (a link to the identity provider when OIDC_ISSUER is set, the
local form unless SSOPS_LOCAL_LOGIN=off), the provider flow's start and callback, and sign-out
that ends the provider's session too where it offers RP-initiated logout."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import login, logout
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache

from accounts import oidc, services
from audit.login import ThrottledLoginView

BACKEND = "accounts.backends.OidcBackend"


def _safe_next(request, value: str) -> str:
    allowed = url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return value if value and allowed else settings.LOGIN_REDIRECT_URL


class LoginView(ThrottledLoginView):
    template_name = "accounts/login.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["oidc_enabled"] = oidc.enabled()
        context["provider_name"] = settings.OIDC_PROVIDER_NAME
        context["local_login"] = settings.LOCAL_LOGIN
        return context

    def post(self, request, *args, **kwargs):
        if not settings.LOCAL_LOGIN:
            response = self.render_to_response(
                self.get_context_data(
                    local_refused="Local accounts are switched off: sign in with "
                    f"{settings.OIDC_PROVIDER_NAME}."
                )
            )
            response.status_code = 403
            return response
        return super().post(request, *args, **kwargs)


def _failure(request, exc: oidc.OidcFailure, subject: str = ""):
    """A refused sign-in: audited, no session, a page that says what happened."""
    logout(request)
    services.oidc_failure_record(
        reason=exc.reason, message=exc.message, request_meta=request.META, subject=subject
    )
    return render(
        request,
        "accounts/oidc_failure.html",
        {
            "reason": exc.reason,
            "message": exc.message,
            "provider_name": settings.OIDC_PROVIDER_NAME,
        },
        status=exc.status,
    )


@never_cache
def oidc_start(request):
    if not oidc.enabled():
        return redirect("login")
    try:
        url = oidc.authorization_start(
            request.session, _safe_next(request, request.GET.get("next", ""))
        )
    except oidc.OidcFailure as exc:
        return _failure(request, exc)
    return redirect(url)


@never_cache
def oidc_callback(request):
    if not oidc.enabled():
        return redirect("login")
    try:
        claims, raw_id_token, next_url = oidc.authorization_finish(request.session, request.GET)
    except oidc.OidcFailure as exc:
        return _failure(request, exc)
    found = services.oidc_sign_in(issuer=settings.OIDC_ISSUER, claims=claims)
    if not found.roles:
        return _failure(
            request,
            oidc.OidcFailure(
                "no_mapped_group",
                f"{settings.OIDC_PROVIDER_NAME} signed you in, but none of your groups gives "
                "access to SSOps. Ask for a group that does; your SSOps tokens no longer work.",
                403,
            ),
            subject=claims["sub"],
        )
    if not found.user.is_active:
        return _failure(
            request,
            oidc.OidcFailure(
                "account_deactivated",
                "Your SSOps account is deactivated. Ask a platform admin.",
                403,
            ),
            subject=claims["sub"],
        )
    login(request, found.user, backend=BACKEND)
    request.session[oidc.ID_TOKEN_KEY] = raw_id_token
    return redirect(_safe_next(request, next_url))


class ProviderLogoutMiddleware:
    """After a sign-out (Django's own logout view, the admin's too) of someone who signed in
    through the provider, send the browser to the provider's end-session endpoint instead of
    the usual page (RP-initiated logout), which comes back to the login page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        url = getattr(request, "oidc_end_session_url", "")
        if url and 300 <= response.status_code < 400:
            return redirect(url)
        return response
