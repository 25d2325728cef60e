"""The identity provider's side that needs no browser sign-in, against the real provider
(tests/services/oidc_provider.py): `ssops login` with the device authorization grant (the
provider's verification page driven in Chromium while the CLI polls), the trade of an ID token
for SSOps's own token, and each way an ID token or a callback is refused. Tokens the provider
never issued are signed here, with its own key (expired, wrong audience) or with another key."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import requests
from django.contrib.auth import get_user_model
from joserfc import jwt
from joserfc.jwk import RSAKey
from playwright.sync_api import expect

from accounts import oidc
from accounts.group_map import GroupMapError, parse_group_map, roles_for
from accounts.models import ApiToken, OidcIdentity
from audit.models import AuditEvent
from tests.factories import TeamFactory
from tests.services.oidc_provider import PASSWORD
from tests.services.prometheus import free_port

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]
DEVICE_TOKEN = "/api/auth/oidc/device-token/"


@pytest.fixture
def idp(oidc_settings):
    TeamFactory(slug="payments", name="Payments")
    return oidc_settings


def signed(key, **claims) -> str:
    now = int(time.time())
    body = {"iat": now, "exp": now + 300, "sub": "00u-dana-4711", **claims}
    return jwt.encode({"alg": "RS256", "kid": key.kid}, body, key)


def failures() -> list[str]:
    events = AuditEvent.objects.filter(action="auth.oidc_failed").order_by("seq")
    return [event.payload["reason"] for event in events]


# --- the CLI: device authorization grant ---------------------------------------------------------


@pytest.mark.browser
def test_ssops_login_signs_in_through_the_provider_with_the_device_grant(
    page, live_server, idp, tmp_path
):
    config = tmp_path / "config.json"
    env = {**os.environ, "SSOPS_CONFIG": str(config)}
    env.pop("SSOPS_TOKEN", None)
    cli = subprocess.Popen(
        [sys.executable, "-m", "ssops_cli.main", "login", "--url", live_server.url],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        prompt = cli.stderr.readline() + cli.stderr.readline()
        found = re.search(r"open (\S+)\s+and confirm the code (\S+)", prompt)
        assert found, prompt
        page.goto(found.group(1))
        expect(page.get_by_role("heading", name="Confirm device")).to_be_visible()
        expect(page.locator("code")).to_have_text(found.group(2))
        page.get_by_role("button", name="Allow").click()
        page.get_by_label("Login").fill("dana")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Device signed in")).to_be_visible()
        out, err = cli.communicate(timeout=60)
    finally:
        if cli.poll() is None:
            cli.kill()
    assert cli.returncode == 0, err
    assert re.search(r"logged in to \S+ as dana~[0-9a-f]{8}", out)
    saved = json.loads(config.read_text())
    token = ApiToken.objects.get(name="ssops login")
    assert token.user.oidc_identity.subject == "00u-dana-4711"
    assert token.created_by is None and token.scopes == ["read", "write"]
    assert 6.9 < (token.expires_at - token.created_at).total_seconds() / 86400 <= 7
    assert saved["token"].startswith(token.key_prefix)
    assert token.user.memberships.get().role == "approver"  # roles from the groups, as on the web


def test_ssops_login_asks_for_a_token_where_ssops_has_no_provider(
    live_server, bob, tmp_path, monkeypatch, capsys
):
    from accounts.services import personal_token_create
    from ssops_cli.main import main

    key = personal_token_create(actor=bob, name="pasted", scopes=["read"], days=1).key
    monkeypatch.setenv("SSOPS_CONFIG", str(tmp_path / "config.json"))
    monkeypatch.delenv("SSOPS_TOKEN", raising=False)
    # The terminal's hidden prompt is the one thing not driven for real: no terminal here.
    monkeypatch.setattr("getpass.getpass", lambda prompt: key)
    assert main(["login", "--url", live_server.url]) == 0
    out, err = capsys.readouterr()
    assert f"Make a token on {live_server.url}/accounts/tokens/" in err and "as bob" in out


# --- the ID token trade: every refusal -----------------------------------------------------------


def test_the_provider_settings_for_the_cli(api, idp, oidc_provider):
    answer = api.get("/api/auth/oidc/").json()
    assert answer["enabled"] is True and answer["client_id"] == "ssops-cli"
    assert answer["device_authorization_endpoint"] == f"{oidc_provider.issuer}/device/auth"


def test_an_id_token_signed_with_another_key_is_refused(api, idp, oidc_provider):
    impostor = RSAKey.generate_key(2048, parameters={"kid": oidc_provider.key.kid})
    forged = signed(impostor, iss=oidc_provider.issuer, aud="ssops-cli", groups=["platform"])
    answer = api.post(DEVICE_TOKEN, {"id_token": forged}, format="json")
    assert answer.status_code == 400
    assert "signature does not verify" in answer.json()["id_token"][0]
    assert not ApiToken.objects.exists() and not OidcIdentity.objects.exists()
    assert failures() == ["id_token_invalid"]


def test_an_expired_id_token_is_refused(api, idp, oidc_provider):
    old = int(time.time()) - 7200
    expired = signed(
        oidc_provider.key, iss=oidc_provider.issuer, aud="ssops-cli", iat=old, exp=old + 300
    )
    answer = api.post(DEVICE_TOKEN, {"id_token": expired}, format="json")
    assert answer.status_code == 400 and "expired" in answer.json()["id_token"][0]
    assert failures() == ["id_token_expired"]


def test_an_id_token_for_another_client_or_issuer_is_refused(api, idp, oidc_provider):
    for claims in (
        {"iss": oidc_provider.issuer, "aud": "ssops-web"},  # the web client's, not the CLI's
        {"iss": "http://127.0.0.1:1", "aud": "ssops-cli"},
    ):
        token = signed(oidc_provider.key, groups=["eng-payments"], **claims)
        answer = api.post(DEVICE_TOKEN, {"id_token": token}, format="json")
        assert answer.status_code == 400, claims
    assert failures() == ["id_token_invalid", "id_token_invalid"]
    assert not ApiToken.objects.exists()


def test_an_id_token_is_traded_once(api, idp, oidc_provider):
    token = signed(
        oidc_provider.key, iss=oidc_provider.issuer, aud="ssops-cli", groups=["eng-payments"]
    )
    first = api.post(DEVICE_TOKEN, {"id_token": token, "scopes": ["read"]}, format="json")
    assert first.status_code == 201 and first.json()["scopes"] == ["read"]
    again = api.post(DEVICE_TOKEN, {"id_token": token}, format="json")
    assert again.status_code == 400 and "traded already" in again.json()["id_token"][0]
    assert ApiToken.objects.count() == 1 and failures() == ["id_token_replayed"]


def test_a_valid_id_token_without_a_mapped_group_gets_no_token(api, idp, oidc_provider):
    token = signed(
        oidc_provider.key, iss=oidc_provider.issuer, aud="ssops-cli", groups=["marketing"]
    )
    answer = api.post(DEVICE_TOKEN, {"id_token": token}, format="json")
    assert answer.status_code == 403 and "None of your groups" in answer.json()["detail"]
    assert failures() == ["no_mapped_group"] and not ApiToken.objects.exists()


def test_the_nonce_of_a_browser_sign_in_must_match(idp, oidc_provider):
    token = signed(oidc_provider.key, iss=oidc_provider.issuer, aud="ssops-web", nonce="other")
    with pytest.raises(oidc.OidcFailure) as refused:
        oidc.id_token_verify(token, audience="ssops-web", nonce="the-one-sent")
    assert refused.value.reason == "bad_nonce"
    assert oidc.id_token_verify(token, audience="ssops-web", nonce="other")["sub"]


def test_an_unsigned_or_hmac_id_token_is_refused(idp, oidc_provider):
    from joserfc.jwk import OctKey

    secret = OctKey.import_key(b"web-secret-for-tests-0123456789-padding")
    body = {"iss": oidc_provider.issuer, "aud": "ssops-web", "sub": "x", "iat": int(time.time())}
    hmac = jwt.encode({"alg": "HS256"}, {**body, "exp": int(time.time()) + 60}, secret)
    with pytest.raises(oidc.OidcFailure) as refused:
        oidc.id_token_verify(hmac, audience="ssops-web")
    assert refused.value.reason == "id_token_invalid"


def through_the_provider(client, login: str, start_query: str = "") -> str:
    """Start a sign-in with Django's test client and answer the provider's own sign-in form
    over HTTP (its cookies in a requests session, as a browser would keep them): the callback
    path with the code the provider gave."""
    start = client.get(f"/oidc/login/{start_query}")
    browser = requests.Session()
    answer = browser.get(start["Location"], allow_redirects=False)
    while answer.is_redirect and "/oidc/callback/" not in answer.headers["Location"]:
        answer = browser.get(urljoin(answer.url, answer.headers["Location"]), allow_redirects=False)
    if not answer.is_redirect:  # the provider's sign-in form
        action = re.search(r'action="([^"]+)"', answer.text).group(1)
        answer = browser.post(
            urljoin(answer.url, action),
            data={"login": login, "password": PASSWORD},
            allow_redirects=False,
        )
        while "/oidc/callback/" not in answer.headers["Location"]:
            location = urljoin(answer.url, answer.headers["Location"])
            answer = browser.get(location, allow_redirects=False)
    callback = urlsplit(answer.headers["Location"])
    return f"{callback.path}?{callback.query}"


def test_the_sign_in_returns_to_the_page_asked_for_and_never_to_another_site(client, idp):
    back = client.get(through_the_provider(client, "dana", "?next=/catalog/%3Fq%3Ddb"))
    assert back.status_code == 302 and back["Location"] == "/catalog/?q=db"
    client.logout()
    away = client.get(through_the_provider(client, "dana", "?next=https://evil.example/"))
    assert away["Location"] == "/"
    assert AuditEvent.objects.filter(action="auth.login").count() == 2


def test_the_callback_checks_the_nonce_and_signature_of_the_provider_s_id_token(
    client, idp, oidc_provider, monkeypatch
):
    # The nonce: the flow in the session is made to expect another one, as when a code and
    # state from someone else's sign-in are injected into this browser.
    callback = through_the_provider(client, "dana")
    session = client.session
    session["oidc_flow"] = {**session["oidc_flow"], "nonce": "another-sign-in"}
    session.save()
    answer = client.get(callback)
    assert answer.status_code == 400 and b"nonce" in answer.content
    # The signature: SSOps is made to hold another key under the provider's key id (as if the
    # provider signed with a key it does not publish); a refresh is not due yet.
    impostor = RSAKey.generate_key(2048, parameters={"kid": oidc_provider.key.kid, "use": "sig"})
    jwks_uri = oidc.discovery()["jwks_uri"]
    impostors = (time.monotonic(), {"keys": [impostor.as_dict()]})
    monkeypatch.setitem(oidc._cache, f"jwks:{jwks_uri}", impostors)
    answer = client.get(through_the_provider(client, "dana"))
    assert answer.status_code == 400 and b"signature does not verify" in answer.content
    assert "_auth_user_id" not in client.session and not OidcIdentity.objects.exists()
    assert failures() == ["bad_nonce", "id_token_invalid"]


def test_a_deactivated_account_is_refused_though_the_provider_vouches(client, idp):
    assert client.get(through_the_provider(client, "dana")).status_code == 302
    dana = OidcIdentity.objects.get(subject="00u-dana-4711").user
    client.logout()
    dana.is_active = False
    dana.save(update_fields=["is_active"])
    answer = client.get(through_the_provider(client, "dana"))
    assert answer.status_code == 403 and b"deactivated" in answer.content
    assert "_auth_user_id" not in client.session
    assert failures() == ["account_deactivated"]


# --- the browser flow's refusals that need no browser --------------------------------------------


def test_an_unreachable_provider_gets_a_clear_page_and_no_session(client, idp):
    idp.OIDC_ISSUER = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    answer = client.get("/oidc/login/")
    assert answer.status_code == 502
    assert b"cannot reach the identity provider" in answer.content
    assert "_auth_user_id" not in client.session
    assert failures() == ["provider_unreachable"]


def test_a_callback_with_a_forged_or_replayed_state_is_refused(client, idp, oidc_provider):
    start = client.get("/oidc/login/")
    assert start.status_code == 302 and start["Location"].startswith(oidc_provider.issuer)
    answer = client.get("/oidc/callback/", {"code": "stolen", "state": "not-the-one"})
    assert answer.status_code == 400 and b"state does not match" in answer.content
    # The flow's state is used once: the real one, after a refusal, is gone too.
    real_state = re.search(r"state=([^&]+)", start["Location"]).group(1)
    again = client.get("/oidc/callback/", {"code": "stolen", "state": real_state})
    assert again.status_code == 400
    # RFC 9207: a code from another provider (a mix-up) is refused before it is used.
    client.get("/oidc/login/")
    mixed = client.get("/oidc/callback/", {"code": "c", "state": "s", "iss": "https://other"})
    assert mixed.status_code == 400 and b"another identity provider" in mixed.content
    assert "_auth_user_id" not in client.session
    assert failures() == ["bad_state", "bad_state", "bad_state"]


def test_the_provider_refusing_the_sign_in_is_said_plainly(client, idp):
    client.get("/oidc/login/")
    query = {"error": "access_denied", "error_description": "<script>x</script>", "state": "x"}
    answer = client.get("/oidc/callback/", query)
    assert answer.status_code == 403 and b"access_denied" in answer.content
    assert b"<script>" not in answer.content
    assert failures() == ["provider_refused"]


def test_local_login_can_be_switched_off(client, idp, bob):
    idp.LOCAL_LOGIN = False
    page = client.get("/accounts/login/")
    assert b"Sign in with" in page.content and b'name="password"' not in page.content
    refused = client.post("/accounts/login/", {"username": "bob", "password": "pw-for-tests"})
    assert refused.status_code == 403 and "_auth_user_id" not in client.session
    assert not client.login(username="bob", password="pw-for-tests")  # the admin site's too


# --- the group map -------------------------------------------------------------------------------


def test_the_group_map_is_read_the_way_operators_write_it():
    group_map = parse_group_map(
        '{"Platform Team": ["platform-admin"], "sre": "oncall",'
        ' "pay-dev": ["team:payments:member"], "pay-lead": ["team:payments:admin", "executive"]}'
    )
    roles = roles_for(["pay-dev", "pay-lead", "sre", "unmapped"], group_map)
    assert roles.platform == {"oncall", "executive"}
    assert roles.teams == {"payments": "admin"}  # the highest role of the team wins
    assert not roles_for("unmapped", group_map) and not roles_for(None, group_map)


@pytest.mark.parametrize(
    "text,problem",
    [
        ("[1]", "must be a JSON object"),
        ("{'a': 1}", "is not JSON"),
        ('{"a": ["root"]}', "'root', which is not one of"),
        ('{"a": ["team:Pay Ments:admin"]}', "which is not one of"),
        ('{"a": ["team:payments:owner"]}', "which is not one of"),
        ('{"a": [1]}', "must be a list of role names"),
    ],
)
def test_a_bad_group_map_is_refused_naming_the_group(text, problem):
    with pytest.raises(GroupMapError, match=re.escape(problem)):
        parse_group_map(text)


def settings_with(**variables) -> subprocess.CompletedProcess:
    """SSOps's settings read in a fresh process with these environment variables."""
    env = {**os.environ, **variables, "DJANGO_SETTINGS_MODULE": "ssops_site.settings"}
    code = "import django; django.setup(); from django.conf import settings as s; "
    code += "print(s.SESSION_COOKIE_AGE, s.OIDC_CLIENT_SECRET, sorted(s.OIDC_GROUP_MAP))"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )


def test_settings_refuse_a_bad_map_or_a_half_configured_provider_at_start_up(tmp_path):
    started = settings_with(SSOPS_OIDC_GROUP_MAP='{"ops": ["superuser"]}')
    assert started.returncode != 0
    assert "SSOPS_OIDC_GROUP_MAP['ops'] holds 'superuser'" in started.stderr
    started = settings_with(OIDC_ISSUER="https://idp.example", OIDC_CLIENT_ID="ssops")
    assert started.returncode != 0 and "OIDC_CLIENT_SECRET" in started.stderr
    started = settings_with(SSOPS_LOCAL_LOGIN="off")
    assert started.returncode != 0 and "nobody could sign in" in started.stderr


def test_the_secret_comes_from_a_file_and_sessions_last_the_hours_set(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("from-a-file\n")
    started = settings_with(
        OIDC_ISSUER="https://idp.example",
        OIDC_CLIENT_ID="ssops",
        OIDC_CLIENT_SECRET_FILE=str(secret),
        SSOPS_OIDC_GROUP_MAP='{"sre": "oncall"}',
        SSOPS_SESSION_HOURS="2",
    )
    assert started.stdout.split() == ["7200", "from-a-file", "['sre']"], started.stderr


def test_no_local_user_name_can_be_made_that_a_provider_user_holds():
    from django.contrib.auth.validators import UnicodeUsernameValidator
    from django.core.exceptions import ValidationError

    from accounts.services import oidc_username

    name = oidc_username({"sub": "x", "preferred_username": "admin"}, "https://idp.example")
    assert re.fullmatch(r"admin~[0-9a-f]{8}", name)
    with pytest.raises(ValidationError):
        UnicodeUsernameValidator()(name)
    assert get_user_model().objects.count() == 0


def test_oidc_check_says_what_ssops_sees_of_the_provider(idp, oidc_provider):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    out = io.StringIO()
    call_command("oidc_check", stdout=out)
    report = out.getvalue()
    assert f"device grant at {oidc_provider.issuer}/device/auth" in report
    assert f"RP-initiated logout  {oidc_provider.issuer}/session/end" in report
    assert "test-key-1 RSA" in report and "eng-payments → team:payments:approver" in report
    idp.OIDC_ISSUER = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(CommandError, match="provider_unreachable: SSOps cannot reach"):
        call_command("oidc_check")
