"""The synthetic catalog probe (M3): every minute, over HTTP at SSOPS_BASE_URL, as a user would —
list the catalog through the API and open its first template — and store the outcome.

It calls as `ssops-probe`, a user made on the first run with no password (it cannot log in to
pages) and a read-only personal token, member of no team: it sees only what every user sees.
SSOps keeps only digests of keys, so the probe's key is derived from the secret key and the
token's name (which counts generations: a new one is made when the last is about to expire).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from datetime import datetime, timedelta

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from accounts.choices import TokenKind, TokenScope
from accounts.keys import PREFIX, key_digest
from accounts.models import ApiToken
from accounts.services import personal_token_create
from audit.services import audit_record
from metrics.models import ProbeResult

PROBE_USER = "ssops-probe"
PROBE_CREDENTIAL_LABEL = "catalog probe #{}"
# A new generation is made when the current one has less than this left.
RENEW_BEFORE = timedelta(days=1)
TIMEOUT = 10  # seconds per call; the beat entry expires after 50


class ProbeFailed(Exception):
    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


def probe_token() -> str:
    """The probe user's API token (the user and token are made on first use, audited)."""
    User = get_user_model()
    with transaction.atomic():
        user, created = User.objects.get_or_create(
            username=PROBE_USER, defaults={"email": "", "first_name": "Synthetic probe"}
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
            audit_record(
                action="user.created",
                obj=user,
                payload={"username": PROBE_USER, "purpose": "synthetic catalog probe (M3)"},
            )
        return _probe_key(user)


def _derived_key(name: str) -> str:
    digest = hmac.new(settings.SECRET_KEY.encode(), f"ssops-probe:{name}".encode(), hashlib.sha256)
    return PREFIX + base64.urlsafe_b64encode(digest.digest()).decode().rstrip("=")


def _probe_key(user) -> str:
    """The key of the probe's current token, made (audited) when there is none that works for
    another day or the secret key changed since."""
    tokens = ApiToken.objects.filter(user=user, kind=TokenKind.PERSONAL)
    current = tokens.valid(timezone.now() + RENEW_BEFORE).order_by("-created_at").first()
    if current is not None and current.key_digest == key_digest(_derived_key(current.name)):
        return _derived_key(current.name)
    numbered = (re.search(r"#(\d+)$", name) for name in tokens.values_list("name", flat=True))
    generations = [int(match.group(1)) for match in numbered if match]
    name = PROBE_CREDENTIAL_LABEL.format(max(generations, default=0) + 1)
    minted = personal_token_create(
        actor=None, user=user, name=name, scopes=[TokenScope.READ], key=_derived_key(name)
    )
    return str(minted.key)


def _get_json(session: requests.Session, url: str):
    try:
        response = session.get(url, timeout=TIMEOUT)
    except requests.RequestException as exc:
        raise ProbeFailed(f"GET {url}: {type(exc).__name__}: {exc}") from None
    if response.status_code != 200:
        raise ProbeFailed(f"GET {url} answered {response.status_code}", response.status_code)
    try:
        return response.status_code, response.json()
    except ValueError:
        raise ProbeFailed(f"GET {url} did not answer JSON", response.status_code) from None


def probe_once(base_url: str, token: str) -> tuple[int | None, str]:
    """One probe; (status of the last call, error text — empty when it succeeded)."""
    with requests.Session() as session:
        session.headers.update(
            {"Authorization": f"Token {token}", "X-Request-ID": "ssops-catalog-probe"}
        )
        try:
            status, listing = _get_json(session, f"{base_url}/api/templates/")
            results = listing.get("results") if isinstance(listing, dict) else listing
            if not isinstance(results, list):
                raise ProbeFailed("the catalog list has no results")
            if results:
                status, template = _get_json(
                    session, f"{base_url}/api/templates/{results[0]['slug']}/"
                )
                if template.get("slug") != results[0]["slug"]:
                    raise ProbeFailed("the template opened is not the one listed")
        except ProbeFailed as exc:
            return exc.status, str(exc)
        except (KeyError, TypeError, AttributeError) as exc:
            return None, f"unexpected answer: {type(exc).__name__}: {exc}"
    return status, ""


def catalog_probe(*, at: datetime) -> ProbeResult:
    """Probe the catalog for the minute `at` (once: a second run for the same minute returns
    the stored result without probing again)."""
    minute = at.replace(second=0, microsecond=0)
    done = ProbeResult.objects.filter(at=minute).first()
    if done is not None:
        return done
    token = probe_token()
    started = time.perf_counter()
    status, error = probe_once(settings.SSOPS_BASE_URL.rstrip("/"), token)
    latency = (time.perf_counter() - started) * 1000
    result, _ = ProbeResult.objects.get_or_create(
        at=minute,
        defaults={
            "ok": not error,
            "status_code": status,
            "latency_ms": latency,
            "error": error[:2000],
        },
    )
    return result
