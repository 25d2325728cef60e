"""`python manage.py oidc_check`: what SSOps sees of the configured identity provider, to check
a set-up before anyone signs in (docs/identity.md). Exit status 1 when it cannot be used."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts import oidc
from accounts.group_map import PLATFORM_ROLES


class Command(BaseCommand):
    help = "Check the OpenID Connect provider SSOps is configured with."

    def handle(self, *args, **options):
        if not oidc.enabled():
            raise CommandError("OIDC_ISSUER is not set: SSOps signs in local accounts only.")
        try:
            metadata = oidc.discovery()
            keys = oidc.signing_keys()
        except oidc.OidcFailure as exc:
            raise CommandError(f"{exc.reason}: {exc.message}") from None
        device = metadata.get("device_authorization_endpoint")
        logout = metadata.get("end_session_endpoint")
        pkce = "S256" in metadata.get("code_challenge_methods_supported", [])
        lines = [
            f"issuer               {settings.OIDC_ISSUER} (discovery agrees)",
            f"signing keys         {keys}",
            f"redirect URI         {oidc.redirect_uri()} (register it at the provider)",
            f"PKCE S256            {'yes' if pkce else 'not advertised (sent anyway)'}",
            f"ssops login          {'device grant at ' + device if device else 'paste a token'}",
            f"RP-initiated logout  {logout or 'no: sign-out ends the SSOps session only'}",
            f"groups claim         {settings.OIDC_GROUPS_CLAIM}",
        ]
        for group, roles in sorted(settings.OIDC_GROUP_MAP.items()):
            lines.append(f"  {group} → {', '.join(roles)}")
        if not settings.OIDC_GROUP_MAP:
            lines.append("  (SSOPS_OIDC_GROUP_MAP is empty: every provider sign-in is refused)")
        elif not any(
            role in PLATFORM_ROLES or role.endswith(":admin")
            for roles in settings.OIDC_GROUP_MAP.values()
            for role in roles
        ):
            lines.append("  (no group gives platform-admin or a team admin role)")
        self.stdout.write("\n".join(lines))
