"""The synthetic catalog probe (M3): every minute, over HTTP at SSOPS_BASE_URL, as a user would —
list the catalog through the API and open its first template — and store the outcome.

It calls as `ssops-probe`, a user made on the first run with no password (it cannot log in to
pages) and a DRF token, member of no team: it sees only what every user sees.
"""

from __future__ import annotations

import time
from datetime import datetime

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from rest_framework.authtoken.models import Token

from audit.services import audit_record
from metrics.models import ProbeResult

PROBE_USER = "ssops-probe"
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
        token, _ = Token.objects.get_or_create(user=user)
    return token.key


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
