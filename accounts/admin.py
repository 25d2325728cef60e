"""API tokens in the admin: read only (keys are never stored, so never shown); revoking goes
through the service, audited like every other revocation."""

from django.contrib import admin, messages

from accounts.models import ApiToken, OidcIdentity
from accounts.services import api_token_revoke
from core.admin import ReadOnlyAdmin


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = ["name", "kind", "user", "team", "key_prefix", "expires_at", "revoked_at"]
    list_filter = ["kind", "team"]
    search_fields = ["name", "user__username", "key_prefix"]
    exclude = ["key_digest"]
    actions = ["revoke"]

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        for token in queryset.select_related("user"):
            api_token_revoke(actor=request.user, token=token, reason="revoked in the admin")
        messages.success(request, f"{queryset.count()} token(s) revoked.")


@admin.register(OidcIdentity)
class OidcIdentityAdmin(ReadOnlyAdmin):
    """Who signed in through the identity provider, and the groups it last sent (read only: the
    provider is the source of truth)."""

    list_display = ["user", "issuer", "subject", "last_sign_in_at", "groups"]
    search_fields = ["user__username", "subject"]
