"""`python manage.py drf_create_token USER`: DRF's command, kept by name and output, making one
of SSOps's expiring personal tokens (SSOps stores keys only as digests, so an existing key
cannot be printed again: every run makes a new token; `-r` revokes the ones this command made
before)."""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from accounts.choices import TokenKind, TokenScope
from accounts.models import ApiToken
from accounts.services import TokenInvalid, api_token_revoke, personal_token_create

NAME = "drf_create_token"


class Command(BaseCommand):
    help = (
        "Make an API token for a user and print it (once). It expires after --days "
        "(SSOPS_TOKEN_DEFAULT_DAYS unless given) and may do what --scope names."
    )

    def add_arguments(self, parser):
        parser.add_argument("username", type=str)
        parser.add_argument(
            "-r",
            "--reset",
            action="store_true",
            dest="reset_token",
            help="revoke the tokens this command made for the user before",
        )
        parser.add_argument("--days", type=int, default=None, help="lifetime in days")
        parser.add_argument(
            "--scope",
            action="append",
            choices=TokenScope.values,
            dest="scopes",
            help="read, write or approve (repeatable; default: all three, as DRF's tokens had)",
        )
        parser.add_argument("--name", default=NAME, help=f"the token's name (default {NAME})")

    def handle(self, *args, username, reset_token, days, scopes, name, **options):
        User = get_user_model()
        try:
            user = User._default_manager.get_by_natural_key(username)
        except User.DoesNotExist:
            raise CommandError(f"Cannot create the Token: user {username} does not exist") from None
        if reset_token:
            made_here = ApiToken.objects.filter(user=user, kind=TokenKind.PERSONAL, name=name)
            for token in made_here.valid().select_related("user"):
                api_token_revoke(actor=None, token=token, reason="drf_create_token --reset")
        try:
            minted = personal_token_create(
                actor=None, user=user, name=name, scopes=scopes or TokenScope.values, days=days
            )
        except (TokenInvalid, PermissionDenied) as exc:
            raise CommandError(f"Cannot create the Token: {exc}") from None
        self.stdout.write(f"Generated token {minted.key} for user {username}")
