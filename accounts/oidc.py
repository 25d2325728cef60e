"""The OpenID Connect relying party: discovery, the authorization code flow with PKCE, ID token
checks and RP-initiated logout (docs/identity.md). Authlib builds the requests (PKCE, state,
client authentication at the token endpoint); joserfc (Authlib's JOSE library) checks the ID
token's signature against the provider's published keys, and its claims.

No database writes here: accounts/services.py turns verified claims into a user and roles.
Every failure is an OidcFailure whose message is safe to show (no secrets, no tokens)."""

from __future__ import annotations

import re
import time
from urllib.parse import urlencode

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session, OAuthError
from django.conf import settings
from joserfc import jwt
from joserfc.errors import ExpiredTokenError, InvalidClaimError, JoseError, MissingClaimError
from joserfc.jwk import KeySet

DISCOVERY_PATH = "/.well-known/openid-configuration"
# Asymmetric only: an ID token "signed" with the client secret (HS256) or unsigned is refused.
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]
DISCOVERY_TTL = 300  # seconds; keys are fetched again sooner when a token's key is not known
REFRESH_EVERY = 30
LEEWAY = 60  # seconds of clock difference allowed on exp/iat
FLOW_KEY = "oidc_flow"
ID_TOKEN_KEY = "oidc_id_token"  # noqa: S105 (the name of a session key)

_cache: dict[str, tuple[float, dict]] = {}


class OidcFailure(Exception):
    """A sign-in that cannot go on. `reason` is a stable code (audited, tested); `message` is
    what the person is told; `status` the HTTP status of the page."""

    def __init__(self, reason: str, message: str, status: int = 400):
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.status = status


def enabled() -> bool:
    return bool(settings.OIDC_ISSUER)


def redirect_uri() -> str:
    return f"{settings.SSOPS_BASE_URL}/oidc/callback/"


def _get_json(url: str, what: str) -> dict:
    try:
        response = requests.get(url, timeout=settings.OIDC_TIMEOUT)
    except requests.RequestException:
        raise OidcFailure(
            "provider_unreachable",
            f"SSOps cannot reach the identity provider ({what} at {url}). Try again later, or "
            "tell the platform team.",
            status=502,
        ) from None
    if response.status_code != 200:
        raise OidcFailure(
            "provider_unreachable",
            f"The identity provider answered {response.status_code} for its {what} ({url}).",
            status=502,
        )
    try:
        document = response.json()
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise OidcFailure(
            "provider_unreachable", f"The identity provider's {what} ({url}) is not JSON.", 502
        )
    return document


def _cached(key: str, fetch, fresh: bool = False) -> dict:
    hit = _cache.get(key)
    age = time.monotonic() - hit[0] if hit else 0.0
    # A forced refresh (an unknown key) at most every REFRESH_EVERY seconds, so that forged
    # tokens cannot make SSOps hammer the provider.
    if hit and age < DISCOVERY_TTL and not (fresh and age >= REFRESH_EVERY):
        return hit[1]
    value = fetch()
    _cache[key] = (time.monotonic(), value)
    return value


def discovery() -> dict:
    """The provider's metadata (`<issuer>/.well-known/openid-configuration`), checked to name
    the configured issuer."""
    issuer = settings.OIDC_ISSUER

    def fetch() -> dict:
        metadata = _get_json(f"{issuer}{DISCOVERY_PATH}", "discovery document")
        if metadata.get("issuer", "").rstrip("/") != issuer.rstrip("/"):
            raise OidcFailure(
                "provider_misconfigured",
                f"The discovery document names the issuer {metadata.get('issuer')!r}, not "
                f"OIDC_ISSUER {issuer!r}.",
                502,
            )
        missing = [
            name
            for name in ("authorization_endpoint", "token_endpoint", "jwks_uri")
            if not metadata.get(name)
        ]
        if missing:
            raise OidcFailure(
                "provider_misconfigured",
                f"The discovery document lacks {', '.join(missing)}.",
                502,
            )
        return metadata

    return _cached(f"discovery:{issuer}", fetch)


def _keys(fresh: bool = False) -> KeySet:
    uri = discovery()["jwks_uri"]
    document = _cached(f"jwks:{uri}", lambda: _get_json(uri, "signing keys"), fresh=fresh)
    try:
        return KeySet.import_key_set(document)
    except (JoseError, ValueError, TypeError, KeyError):
        raise OidcFailure(
            "provider_misconfigured", "The identity provider's signing keys cannot be read.", 502
        ) from None


def signing_keys() -> str:
    """The provider's published signing keys, described (for `manage.py oidc_check`)."""
    keys = _keys().keys
    return ", ".join(f"{key.kid or '(no kid)'} {key.key_type}" for key in keys) or "none"


def _client(client_id: str, client_secret: str | None = None) -> OAuth2Session:
    return OAuth2Session(
        client_id,
        client_secret,
        scope=settings.OIDC_SCOPES,
        redirect_uri=redirect_uri(),
        code_challenge_method="S256",
    )


def authorization_start(session, next_url: str) -> str:
    """The provider's authorization URL for a new sign-in; state, nonce and the PKCE verifier
    wait in the session for the callback."""
    metadata = discovery()
    state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
    session[FLOW_KEY] = {"state": state, "nonce": nonce, "verifier": verifier, "next": next_url}
    url, _ = _client(settings.OIDC_CLIENT_ID).create_authorization_url(
        metadata["authorization_endpoint"], state=state, nonce=nonce, code_verifier=verifier
    )
    return url


def _provider_error_code(value: str) -> str:
    # The error code comes from the query string: keep it to the RFC 6749 character set.
    return re.sub(r"[^A-Za-z0-9_.-]", "", value)[:60] or "unknown"


def authorization_finish(session, query) -> tuple[dict, str, str]:
    """Check the callback, exchange the code and verify the ID token: (claims, raw ID token,
    where to go next). The flow's state is used once, whatever happens."""
    flow = session.pop(FLOW_KEY, None)
    if query.get("error"):
        code = _provider_error_code(query["error"])
        raise OidcFailure(
            "provider_refused",
            f"The identity provider ended the sign-in with the error “{code}”.",
            403 if code == "access_denied" else 400,
        )
    if query.get("iss") and query["iss"].rstrip("/") != settings.OIDC_ISSUER.rstrip("/"):
        # RFC 9207: the answer comes from another provider than the one asked (a mix-up).
        raise OidcFailure("bad_state", "The callback names another identity provider.")
    if not flow or not query.get("state") or query.get("state") != flow["state"]:
        raise OidcFailure(
            "bad_state",
            "This sign-in link does not belong to a sign-in started in this browser (its state "
            "does not match, or it was used already). Start again.",
        )
    if not query.get("code"):
        raise OidcFailure("bad_state", "The identity provider sent no authorization code.")
    metadata = discovery()
    client = _client(settings.OIDC_CLIENT_ID, settings.OIDC_CLIENT_SECRET)
    try:
        token = client.fetch_token(
            metadata["token_endpoint"],
            grant_type="authorization_code",
            code=query["code"],
            code_verifier=flow["verifier"],
            timeout=settings.OIDC_TIMEOUT,
        )
    except OAuthError as exc:
        if exc.error == "invalid_client":
            raise OidcFailure(
                "client_refused",
                "The identity provider refused SSOps's client credentials (OIDC_CLIENT_ID or "
                "OIDC_CLIENT_SECRET is wrong). Tell the platform team.",
                502,
            ) from None
        raise OidcFailure(
            "provider_refused",
            f"The identity provider refused the authorization code "
            f"(“{_provider_error_code(exc.error or '')}”). Start again.",
            400,
        ) from None
    except requests.RequestException:
        raise OidcFailure(
            "provider_unreachable",
            "SSOps cannot reach the identity provider's token endpoint. Try again later.",
            502,
        ) from None
    except ValueError:  # an answer that is not the JSON of RFC 6749 (an error page)
        raise OidcFailure(
            "provider_unreachable",
            "The identity provider's token endpoint did not answer with a token.",
            502,
        ) from None
    raw = token.get("id_token")
    if not raw:
        raise OidcFailure("id_token_invalid", "The identity provider sent no ID token.", 502)
    claims = id_token_verify(raw, audience=settings.OIDC_CLIENT_ID, nonce=flow["nonce"])
    return claims, raw, flow.get("next") or ""


def id_token_verify(raw: str, *, audience: str, nonce: str | None = None) -> dict:
    """The claims of an ID token this provider signed for `audience`, current (exp, iat) and,
    for a browser sign-in, carrying the nonce that sign-in sent."""
    try:
        try:
            token = jwt.decode(raw, _keys(), algorithms=ALGORITHMS)
        except JoseError:
            # The provider may have rotated its keys since they were fetched: fetch once more.
            token = jwt.decode(raw, _keys(fresh=True), algorithms=ALGORITHMS)
    except (JoseError, ValueError, TypeError) as exc:
        raise OidcFailure(
            "id_token_invalid",
            "The ID token's signature does not verify with the identity provider's keys "
            f"({type(exc).__name__}).",
        ) from None
    options = {
        "iss": {"essential": True, "value": settings.OIDC_ISSUER},
        "aud": {"essential": True, "value": audience},
        "sub": {"essential": True},
        "exp": {"essential": True},
        "iat": {"essential": True},
    }
    if nonce is not None:
        options["nonce"] = {"essential": True, "value": nonce}
    try:
        jwt.JWTClaimsRegistry(leeway=LEEWAY, **options).validate(token.claims)
    except ExpiredTokenError:
        raise OidcFailure("id_token_expired", "The ID token has expired. Sign in again.") from None
    except (InvalidClaimError, MissingClaimError) as exc:
        claim = getattr(exc, "claim", "")
        if claim == "nonce":
            raise OidcFailure(
                "bad_nonce",
                "The ID token does not carry the nonce of this sign-in (a replayed token?).",
            ) from None
        raise OidcFailure(
            "id_token_invalid", f"The ID token's {claim or 'claims'} claim is not valid."
        ) from None
    return dict(token.claims)


def end_session_url(id_token: str | None) -> str:
    """Where to send the browser to sign out at the provider too, or '' when it offers no
    RP-initiated logout (or is unreachable: the SSOps session ends anyway)."""
    try:
        endpoint = discovery().get("end_session_endpoint")
    except OidcFailure:
        return ""
    if not endpoint:
        return ""
    params = {
        "client_id": settings.OIDC_CLIENT_ID,
        "post_logout_redirect_uri": f"{settings.SSOPS_BASE_URL}/accounts/login/",
    }
    if id_token:
        params["id_token_hint"] = id_token
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(params)}"


def cli_settings() -> dict:
    """What `ssops login` needs to run the device authorization grant against the provider."""
    metadata = discovery()
    return {
        "issuer": settings.OIDC_ISSUER,
        "client_id": settings.OIDC_CLI_CLIENT_ID,
        "scope": settings.OIDC_SCOPES,
        "provider_name": settings.OIDC_PROVIDER_NAME,
        "device_authorization_endpoint": metadata.get("device_authorization_endpoint") or None,
        "token_endpoint": metadata["token_endpoint"],
    }
