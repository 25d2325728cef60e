"""API token keys: made at random, shown once, stored only as a SHA-256 digest.

Pure functions (no Django): what a key looks like and how it is found again. A key carries a
fixed prefix so that secret scanners and people recognise it; its first characters are kept in
clear (`key_prefix`) so that its owner can tell their tokens apart.
"""

from __future__ import annotations

import hashlib
import secrets

PREFIX = "ssops_"
PREFIX_SHOWN = 12  # "ssops_" and six characters of the random part
# 30 random bytes: 240 bits, so a digest without a salt or a slow hash is enough (nobody can
# guess a key from its digest, and lookups stay one indexed query).
RANDOM_BYTES = 30


def key_generate() -> str:
    return PREFIX + secrets.token_urlsafe(RANDOM_BYTES)


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_prefix(key: str) -> str:
    """What is shown of a key: its beginning (a key made by DRF before SSOps had its own
    tokens has no prefix; its first eight characters are shown)."""
    return key[:PREFIX_SHOWN] if key.startswith(PREFIX) else key[:8]
