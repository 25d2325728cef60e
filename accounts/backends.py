"""Who may hold a session: local accounts (password) unless SSOPS_LOCAL_LOGIN=off, and people
signed in through the identity provider (accounts/oidc.py logs them in with OidcBackend)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.backends import ModelBackend


class LocalPasswordBackend(ModelBackend):
    """Django's password check, switched off with SSOPS_LOCAL_LOGIN=off (the admin site's
    login included). Accounts made by a provider sign-in have no usable password."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not settings.LOCAL_LOGIN:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)

    def get_user(self, user_id):
        # A local session made before local login was switched off ends with it.
        if not settings.LOCAL_LOGIN:
            return None
        return super().get_user(user_id)


class OidcBackend(ModelBackend):
    """Holds the sessions the provider sign-in opens; it never checks a password itself."""

    def authenticate(self, request, **credentials):
        return None
