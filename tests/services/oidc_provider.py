"""A real OpenID Connect provider for the sign-in tests: panva's oidc-provider (npm, pinned in
scripts/oidc-provider/package-lock.json; `./run test` installs it) on Node.js, session-wide, on a
free 127.0.0.1 port. The test owns its signing key (so it can also sign a token the provider
never issued) and its account store (so it can change someone's groups between sign-ins).

Clients: `ssops-web` (confidential, authorization code + PKCE, redirect to the live server's
/oidc/callback/) and `ssops-cli` (public, device authorization grant)."""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import requests
from joserfc.jwk import RSAKey

from tests.services.prometheus import free_port

PROVIDER_DIR = Path(__file__).resolve().parents[2] / "scripts" / "oidc-provider"
WEB_SECRET = "web-secret-for-tests-0123456789"
PASSWORD = "pw-at-the-provider"
ACCOUNTS = {
    # login name at the provider → account; `sub` is deliberately unlike the login name.
    "dana": {
        "sub": "00u-dana-4711",
        "name": "Dana Ops",
        "email": "dana@example.com",
        "preferred_username": "dana",
        "groups": ["eng-payments", "sre"],
    },
    "erin": {
        "sub": "00u-erin-0815",
        "name": "Erin",
        "email": "erin@example.com",
        "preferred_username": "erin",
        "groups": ["marketing"],
    },
    # Claims the local break-glass admin's name: must never become that account.
    "admin": {
        "sub": "00u-admin-1",
        "name": "Not the admin",
        "email": "admin@example.com",
        "preferred_username": "admin",
        "groups": ["eng-payments"],
    },
}
GROUP_MAP = {
    "eng-payments": ["team:payments:approver"],
    "payments-leads": ["team:payments:admin"],
    "sre": ["oncall"],
    "platform": ["platform-admin"],
}


class OidcProvider:
    def __init__(self, workdir: Path, redirect_base: str):
        self.workdir = workdir
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.redirect_base = redirect_base
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key-1", "alg": "RS256"})
        self.accounts_file = workdir / "accounts.json"
        self.process: subprocess.Popen | None = None

    def set_accounts(self, accounts: dict) -> None:
        for login, account in accounts.items():
            account.setdefault("password", PASSWORD)
            account.setdefault("preferred_username", login)
        self.accounts_file.write_text(json.dumps(accounts))

    def set_groups(self, login: str, groups: list[str]) -> None:
        accounts = json.loads(self.accounts_file.read_text())
        accounts[login]["groups"] = groups
        self.accounts_file.write_text(json.dumps(accounts))

    def start(self) -> OidcProvider:
        node = shutil.which("node")
        if node is None:
            pytest.fail("Node.js is missing: install the Debian package nodejs (./run test does)")
        if not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
            pytest.fail(f"oidc-provider is not installed: run `npm ci` in {PROVIDER_DIR}")
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.set_accounts(json.loads(json.dumps(ACCOUNTS)))
        config = {
            "port": self.port,
            "cookieKey": secrets.token_urlsafe(32),
            "accountsFile": str(self.accounts_file),
            "jwks": {"keys": [self.key.as_dict(private=True)]},
            "clients": [
                {
                    "client_id": "ssops-web",
                    "client_secret": WEB_SECRET,
                    "client_name": "SSOps",
                    "redirect_uris": [f"{self.redirect_base}/oidc/callback/"],
                    "post_logout_redirect_uris": [f"{self.redirect_base}/accounts/login/"],
                    "grant_types": ["authorization_code"],
                    "response_types": ["code"],
                },
                {
                    "client_id": "ssops-cli",
                    "client_name": "SSOps CLI",
                    "token_endpoint_auth_method": "none",
                    "grant_types": ["urn:ietf:params:oauth:grant-type:device_code"],
                    "response_types": [],
                    "redirect_uris": [],
                },
            ],
        }
        config_file = self.workdir / "provider.json"
        config_file.write_text(json.dumps(config))
        log = (self.workdir / "provider.log").open("ab")
        self.process = subprocess.Popen(
            [node, str(PROVIDER_DIR / "provider.mjs"), str(config_file)],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=PROVIDER_DIR,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"oidc-provider exited; see {self.workdir / 'provider.log'}")
            try:
                discovery = f"{self.issuer}/.well-known/openid-configuration"
                if requests.get(discovery, timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"oidc-provider not ready on {self.issuer}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory, live_server):
    server = OidcProvider(tmp_path_factory.mktemp("oidc-provider"), live_server.url).start()
    yield server
    server.stop()


@pytest.fixture
def oidc_settings(settings, oidc_provider, live_server):
    """SSOps configured for the test provider, with the accounts reset to their first state."""
    oidc_provider.set_accounts(json.loads(json.dumps(ACCOUNTS)))
    settings.OIDC_ISSUER = oidc_provider.issuer
    settings.OIDC_CLIENT_ID = "ssops-web"
    settings.OIDC_CLIENT_SECRET = WEB_SECRET
    settings.OIDC_CLI_CLIENT_ID = "ssops-cli"
    settings.OIDC_GROUP_MAP = GROUP_MAP
    settings.SSOPS_BASE_URL = live_server.url
    return settings
