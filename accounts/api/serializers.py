"""One representation of a token (never its key, except once in the answer that makes it)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.choices import TokenKind, TokenScope, TokenState
from core.serializers import StrictInput


class ApiTokenSerializer(serializers.Serializer):
    uuid = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=TokenKind.choices)
    name = serializers.CharField()
    team = serializers.CharField(source="team.slug", default=None, allow_null=True)
    acts_as = serializers.CharField(source="user.username", help_text="Whom its calls act as.")
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=TokenScope.choices))
    shown_as = serializers.CharField(source="key_prefix", help_text="The key's first characters.")
    state = serializers.ChoiceField(choices=TokenState.choices, source="current_state")
    created_at = serializers.DateTimeField()
    created_by = serializers.CharField(source="created_by.username", default=None, allow_null=True)
    expires_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)
    revoke_reason = serializers.CharField()
    rotated_from = serializers.UUIDField(source="rotated_from.uuid", default=None, allow_null=True)
    rotated_to = serializers.SerializerMethodField()

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_rotated_to(self, obj) -> str | None:
        successor = obj.successor
        return str(successor.uuid) if successor else None


class MintedSerializer(ApiTokenSerializer):
    """A new token with its key (given in the context: the model has none)."""

    key = serializers.SerializerMethodField(
        help_text="The key: shown in this answer only, never again."
    )

    @extend_schema_field(serializers.CharField())
    def get_key(self, obj) -> str:
        return str(self.context["key"])


class _Lifetime(serializers.Serializer):
    days = serializers.IntegerField(
        required=False, min_value=1, help_text="Lifetime (default SSOPS_TOKEN_DEFAULT_DAYS)."
    )
    expires_at = serializers.DateTimeField(required=False, help_text="Or an expiry time.")
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=TokenScope.choices),
        min_length=1,
        help_text="read, write, approve (write and approve include read).",
    )


class PersonalTokenCreateSerializer(StrictInput, _Lifetime):
    name = serializers.CharField(max_length=100)


class ServiceTokenCreateSerializer(StrictInput, _Lifetime):
    team = serializers.SlugField()
    name = serializers.RegexField(
        r"^[a-z0-9]([a-z0-9-]{0,48}[a-z0-9])?$",
        help_text="Lower-case letters, digits and hyphens; its calls act as NAME@TEAM.",
    )


class RotateSerializer(StrictInput, serializers.Serializer):
    overlap_hours = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=7 * 24,
        help_text="Hours the old key keeps working (default SSOPS_TOKEN_ROTATION_OVERLAP_HOURS).",
    )


class RevokeSerializer(StrictInput, serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")


class OidcSettingsSerializer(serializers.Serializer):
    """How `ssops login` signs in through the identity provider (all null when SSOps has none)."""

    enabled = serializers.BooleanField(help_text="Whether SSOps signs in through a provider.")
    provider_name = serializers.CharField(allow_null=True)
    issuer = serializers.CharField(allow_null=True)
    client_id = serializers.CharField(
        allow_null=True, help_text="The CLI's client at the provider."
    )
    scope = serializers.CharField(allow_null=True)
    device_authorization_endpoint = serializers.CharField(
        allow_null=True, help_text="Null when the provider offers no device authorization grant."
    )
    token_endpoint = serializers.CharField(allow_null=True)


class DeviceTokenRequestSerializer(StrictInput, serializers.Serializer):
    id_token = serializers.CharField(
        max_length=20000,
        help_text="The ID token the provider gave the CLI at the end of the device grant.",
    )
    name = serializers.CharField(max_length=100, required=False, default="ssops login")
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=TokenScope.choices),
        min_length=1,
        required=False,
        default=["read", "write"],
        help_text="read, write, approve (default read and write).",
    )
