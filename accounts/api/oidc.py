"""`ssops login` through the identity provider: the CLI reads how to reach the provider
(`GET /api/auth/oidc/`), runs the device authorization grant (RFC 8628) with the provider
itself, then trades the ID token it got for one of SSOps's own expiring personal tokens
(`POST /api/auth/oidc/device-token/`). Both answer without credentials: the ID token, signed by
the provider for the CLI's client and checked here, is the credential."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import oidc, services
from accounts.api import serializers as s
from accounts.api.views import TokenErrorsMixin, _minted

PROVIDER_DOWN = OpenApiResponse(description="The identity provider cannot be reached.")
NOT_CONFIGURED = (
    "SSOps does not sign in through an identity provider (OIDC_ISSUER is not set): make a "
    "token on the Tokens page and use `ssops login --token`."
)


def _provider_down(exc: oidc.OidcFailure) -> Response:
    return Response({"detail": exc.message}, status=status.HTTP_502_BAD_GATEWAY)


class OidcSettingsView(APIView):
    """How to sign the CLI in through the identity provider."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(responses={200: s.OidcSettingsSerializer, 502: PROVIDER_DOWN})
    def get(self, request):
        if not oidc.enabled():
            empty = dict.fromkeys(s.OidcSettingsSerializer().fields, None)
            return Response(s.OidcSettingsSerializer({**empty, "enabled": False}).data)
        try:
            found = oidc.cli_settings()
        except oidc.OidcFailure as exc:
            return _provider_down(exc)
        return Response(s.OidcSettingsSerializer({**found, "enabled": True}).data)


class DeviceTokenView(TokenErrorsMixin, APIView):
    """A personal token (SSOPS_OIDC_CLI_TOKEN_DAYS) for the person an ID token names: roles are
    set from the token's groups as at a web sign-in; without a mapped group, 403 and the
    person's tokens stop working."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=s.DeviceTokenRequestSerializer,
        responses={201: s.MintedSerializer, 502: PROVIDER_DOWN},
    )
    def post(self, request):
        if not oidc.enabled():
            # Bad input for this SSOps, not a refusal of the caller: no provider to trust.
            return Response({"detail": NOT_CONFIGURED}, status=status.HTTP_400_BAD_REQUEST)
        incoming = s.DeviceTokenRequestSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        try:
            claims = oidc.id_token_verify(data["id_token"], audience=settings.OIDC_CLI_CLIENT_ID)
        except oidc.OidcFailure as exc:
            services.oidc_failure_record(
                reason=exc.reason, message=exc.message, request_meta=request.META
            )
            if exc.status >= 500:
                return _provider_down(exc)
            raise ValidationError({"id_token": [exc.message]}) from None
        if not services.id_token_spend(raw=data["id_token"], claims=claims):
            message = "This ID token was traded already: run `ssops login` again."
            services.oidc_failure_record(
                reason="id_token_replayed",
                message=message,
                request_meta=request.META,
                subject=claims["sub"],
            )
            raise ValidationError({"id_token": [message]})
        found = services.oidc_sign_in(issuer=settings.OIDC_ISSUER, claims=claims)
        if not found.roles:
            message = (
                "None of your groups at the identity provider gives access to SSOps; your SSOps "
                "tokens no longer work."
            )
            services.oidc_failure_record(
                reason="no_mapped_group",
                message=message,
                request_meta=request.META,
                subject=claims["sub"],
            )
            raise PermissionDenied(message)
        minted = services.personal_token_create(
            actor=None,
            user=found.user,
            name=data["name"],
            scopes=data["scopes"],
            days=settings.OIDC_CLI_TOKEN_DAYS,
        )
        return _minted(minted)
