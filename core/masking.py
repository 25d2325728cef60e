"""Masking of secrets before anything is stored in audit rows or written to logs.

Pure functions; no Django imports.
"""

from __future__ import annotations

import functools
import re
from typing import Any

MASK = "***"
SECRET_KEY_RE = re.compile(
    r"(pass(word|wd)?|secret|token|api[_-]?key|private[_-]?key|credential|authorization|cookie|"
    r"dsn|connection[_-]?string|signature|otp)",
    re.IGNORECASE,
)
# key=value or "key": "value" pairs, and URLs with a password (scheme://user:pass@host)
_PAIR_RE = re.compile(
    r"""(?P<key>["']?\b[\w-]*(?:pass(?:word|wd)?|secret|token|api[_-]?key|credential)[\w-]*["']?"""
    r"""\s*[:=]\s*)(?P<value>"[^"]*"|'[^']*'|[^\s,;&}]+)""",
    re.IGNORECASE,
)
_URL_PASSWORD_RE = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]+:)(?P<pw>[^@\s]+)(?P<at>@)")


class Secret(str):
    """A string that must never be stored or shown; mask() always replaces it."""

    def __repr__(self) -> str:
        return "Secret('***')"


@functools.lru_cache(maxsize=4096)  # keys repeat: every audit payload has the same few
def is_secret_key(key: str) -> bool:
    return bool(SECRET_KEY_RE.search(key))


def mask(value: Any, *, key: str = "") -> Any:
    """Return a copy of value with secret-looking keys and Secret values replaced by MASK."""
    if isinstance(value, Secret) or (key and is_secret_key(key) and value not in (None, "")):
        return MASK
    if isinstance(value, dict):
        return {str(k): mask(v, key=str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask(item, key=key) for item in value]
    if isinstance(value, str):
        return mask_text(value)
    return value


def mask_text(text: str) -> str:
    if not text:
        return text
    # Neither pattern matches without its separator; most strings have neither.
    if "://" in text:
        text = _URL_PASSWORD_RE.sub(lambda m: f"{m['head']}{MASK}{m['at']}", text)
    if ":" in text or "=" in text:
        text = _PAIR_RE.sub(lambda m: f"{m['key']}{MASK}", text)
    return text
