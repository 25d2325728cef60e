"""The token API: a person's own tokens (`/api/tokens/`) and teams' service tokens
(`/api/service-tokens/`). Keys appear once, in the answer that makes them. A token made through
a call authenticated by a token never outlives that token."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from accounts import selectors, services
from accounts.api import serializers as s
from accounts.models import ApiToken
from core.parsers import StrictJSONParser
from teams.models import Team


def _made_with_token(request):
    """The expiry a new token may not pass: that of the token authenticating the call."""
    return request.auth.expires_at if isinstance(request.auth, ApiToken) else None


def _asked(request, data: dict) -> dict:
    """What the caller asked of a new token, as the services take it."""
    return {
        "name": data["name"],
        "scopes": data["scopes"],
        "days": data.get("days"),
        "expires_at": data.get("expires_at"),
        "not_after": _made_with_token(request),
    }


def _minted(minted: services.Minted) -> Response:
    data = s.MintedSerializer(minted.token, context={"key": minted.key}).data
    response = Response(data, status=status.HTTP_201_CREATED)
    response["Cache-Control"] = "no-store"
    return response


class TokenErrorsMixin:
    # JSON only: a token is made by a script or the CLI (the pages have their own forms), and an
    # empty form field cannot pass for a missing one.
    parser_classes = [StrictJSONParser]

    def handle_exception(self, exc):
        if isinstance(exc, services.TokenInvalid):
            exc = ValidationError(exc.errors)
        return super().handle_exception(exc)


class _TokenActions(TokenErrorsMixin):
    @extend_schema(request=s.RotateSerializer, responses={201: s.MintedSerializer})
    @action(detail=True, methods=["post"])
    def rotate(self, request, uuid=None):
        """A new key for the token; the old one keeps working for `overlap_hours`."""
        incoming = s.RotateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        minted = services.api_token_rotate(
            actor=request.user,
            token=self.get_object(),
            overlap_hours=incoming.validated_data.get("overlap_hours"),
            not_after=_made_with_token(request),
        )
        return _minted(minted)

    @extend_schema(request=s.RevokeSerializer, responses=s.ApiTokenSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, uuid=None):
        """Stop the token at once (a revoked token stays listed, as revoked)."""
        incoming = s.RevokeSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        token = services.api_token_revoke(
            actor=request.user, token=self.get_object(), reason=incoming.validated_data["reason"]
        )
        return Response(s.ApiTokenSerializer(self.get_queryset().get(pk=token.pk)).data)


class TokenViewSet(
    _TokenActions,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """The caller's personal tokens, newest first; create one (its key is in the answer, once),
    rotate or revoke it."""

    lookup_field = "uuid"
    serializer_class = s.ApiTokenSerializer

    def get_queryset(self):
        return selectors.personal_tokens_of(user=self.request.user)

    @extend_schema(request=s.PersonalTokenCreateSerializer, responses={201: s.MintedSerializer})
    def create(self, request):
        incoming = s.PersonalTokenCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        asked = _asked(request, incoming.validated_data)
        return _minted(services.personal_token_create(actor=request.user, **asked))


class ServiceTokenViewSet(
    _TokenActions,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Service tokens of the caller's teams (platform admins and executives: all), for CI;
    their calls act as NAME@TEAM and every use is in the audit store. The team's admins create,
    rotate (two keys work during the overlap) and revoke them."""

    lookup_field = "uuid"
    serializer_class = s.ApiTokenSerializer

    def get_queryset(self):
        tokens = selectors.service_tokens_visible(user=self.request.user)
        team = self.request.query_params.get("team") if self.action == "list" else None
        return tokens.filter(team__slug=team) if team else tokens

    @extend_schema(parameters=[OpenApiParameter("team", str, description="A team's slug.")])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=s.ServiceTokenCreateSerializer, responses={201: s.MintedSerializer})
    def create(self, request):
        incoming = s.ServiceTokenCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        team = Team.objects.filter(slug=data["team"]).first()
        if team is None:
            raise ValidationError({"team": [f"There is no team {data['team']}."]})
        asked = _asked(request, data)
        return _minted(services.service_token_create(actor=request.user, team=team, **asked))
