"""Secrets at rest: Fernet (AES-128-CBC with HMAC-SHA256) keyed by SSOPS_SECRETS_KEY.

Several keys may be given (newest first): the first encrypts, all decrypt, so keys can be
rotated. Plain values never leave this module except to the one caller that shows them once.
"""

from __future__ import annotations

import secrets
import string

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

from core.masking import Secret
from provisioning.base import PermanentError

PASSWORD_ALPHABET = string.ascii_letters + string.digits


class SecretsUnavailable(PermanentError):
    pass


def _fernet() -> MultiFernet:
    if not settings.SECRETS_KEYS:
        raise SecretsUnavailable(
            "SSOPS_SECRETS_KEY is not set, so SSOps will not store a new secret: set it to a "
            "Fernet key (python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())')"
        )
    return MultiFernet([Fernet(key) for key in settings.SECRETS_KEYS])


def encrypt(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode()


def decrypt(token: str) -> Secret:
    try:
        return Secret(_fernet().decrypt(token.encode()).decode())
    except InvalidToken:
        raise SecretsUnavailable(
            "the stored secret cannot be decrypted with SSOPS_SECRETS_KEY (was the key changed "
            "without keeping the old one in the list?)"
        ) from None


def new_password(length: int = 32) -> Secret:
    return Secret("".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(length)))
