"""Sign-in through a real OpenID Connect provider (panva's oidc-provider on Node.js, started once
per session by tests/services/oidc_provider.py) in real Chromium: roles come from the provider's
groups on every sign-in, a group taken away takes the action away, sign-out ends the provider's
session too; a person with no mapped group and a wrong client secret are refused."""

from __future__ import annotations

import re
import time

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from accounts.models import ApiToken, OidcIdentity
from accounts.services import personal_token_create
from audit.models import AuditEvent
from teams.choices import PlatformGroup, TeamRole
from teams.models import Membership
from tests.factories import TeamFactory, UserFactory
from tests.services.oidc_provider import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def provider_sign_in(page, live_server, login: str):
    """From SSOps's login page through the provider's own sign-in form and back."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("link", name="Sign in with Test IdP").click()
    expect(page.get_by_role("heading", name="Sign in to the test provider")).to_be_visible()
    page.get_by_label("Login").fill(login)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def actions(event_name: str) -> list[dict]:
    return [e.content for e in AuditEvent.objects.filter(action=event_name).order_by("seq")]


@pytest.fixture
def idp(oidc_settings):
    oidc_settings.OIDC_PROVIDER_NAME = "Test IdP"
    TeamFactory(slug="payments", name="Payments")
    return oidc_settings


def test_roles_follow_the_provider_groups_and_sign_out_ends_both_sessions(
    page, live_server, idp, oidc_provider
):
    provider_sign_in(page, live_server, "dana")
    heading = page.get_by_role("heading", name=re.compile(r"^Welcome, dana~[0-9a-f]{8}$"))
    expect(heading).to_be_visible()
    identity = OidcIdentity.objects.select_related("user").get(subject="00u-dana-4711")
    dana = identity.user
    assert identity.issuer == oidc_provider.issuer
    assert not dana.has_usable_password()
    assert Membership.objects.get(user=dana).role == TeamRole.APPROVER  # eng-payments
    assert set(dana.groups.values_list("name", flat=True)) == {PlatformGroup.ONCALL}  # sre
    (roles_set,) = actions("accounts.oidc_roles_set")
    assert roles_set["payload"]["after"] == {
        "platform": ["oncall"],
        "teams": {"payments": "approver"},
    }
    page.goto(f"{live_server.url}/teams/payments/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Payments")
    # The session lasts SSOPS_SESSION_HOURS (8): then the groups are read again at sign-in.
    (session,) = [c for c in page.context.cookies() if c["name"] == "sessionid"]
    assert abs(session["expires"] - time.time() - 8 * 3600) < 120

    # A role set by hand is replaced at the next sign-in: the provider is the source of truth.
    Membership.objects.filter(user=dana).update(role=TeamRole.ADMIN)
    oidc_provider.set_groups("dana", ["sre"])  # out of eng-payments at the provider
    page.goto(f"{live_server.url}/")
    page.get_by_role("button", name="Log out").click()
    # RP-initiated logout: the provider asks, then sends the browser back to SSOps.
    expect(page.get_by_role("heading", name="Sign out of the identity provider?")).to_be_visible()
    page.get_by_role("button", name="Yes, sign me out").click()
    expect(page).to_have_url(f"{live_server.url}/accounts/login/")
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))

    # The provider's session ended too: signing in asks for the password again.
    provider_sign_in(page, live_server, "dana")
    expect(heading).to_be_visible()
    assert not Membership.objects.filter(user=dana).exists()
    response = page.request.get(f"{live_server.url}/teams/payments/")
    assert response.status == 404  # another team's page: not found, as for any outsider
    last = actions("accounts.oidc_roles_set")[-1]["payload"]
    assert last["before"]["teams"] == {"payments": "admin"}
    assert last["after"] == {"platform": ["oncall"], "teams": {}}


def test_a_person_who_lost_every_mapped_group_is_refused_and_their_tokens_stop(
    page_factory, live_server, idp, oidc_provider, api
):
    first = page_factory()
    provider_sign_in(first, live_server, "dana")
    expect(first.get_by_role("heading", name=re.compile(r"^Welcome, dana~"))).to_be_visible()
    dana = OidcIdentity.objects.get(subject="00u-dana-4711").user
    minted = personal_token_create(actor=dana, name="laptop", scopes=["read"], days=7)
    api.credentials(HTTP_AUTHORIZATION=f"Token {minted.key}")
    assert api.get("/api/tokens/").status_code == 200

    oidc_provider.set_groups("dana", ["marketing"])
    second = page_factory()
    provider_sign_in(second, live_server, "dana")
    expect(second.get_by_role("heading", name="Sign-in failed")).to_be_visible()
    expect(second.get_by_role("alert")).to_contain_text("none of your groups gives access")
    second.goto(f"{live_server.url}/")
    expect(second).to_have_url(re.compile(r"/accounts/login/"))
    assert api.get("/api/tokens/").status_code == 401
    assert ApiToken.objects.get(pk=minted.token.pk).revoke_reason.startswith("lost every")
    assert dana.groups.count() == 0
    assert actions("auth.oidc_failed")[-1]["payload"]["reason"] == "no_mapped_group"


def test_a_provider_account_never_becomes_a_local_one(page, live_server, idp):
    admin = UserFactory(username="admin", is_superuser=True, is_staff=True)
    # The provider's "admin" shares the name and e-mail, not the issuer and subject.
    provider_sign_in(page, live_server, "admin")
    expect(
        page.get_by_role("heading", name=re.compile(r"^Welcome, admin~[0-9a-f]{8}$"))
    ).to_be_visible()
    admin.refresh_from_db()
    assert admin.is_superuser and not hasattr(admin, "oidc_identity")
    assert get_user_model().objects.filter(username__startswith="admin").count() == 2


def test_a_newcomer_without_a_mapped_group_gets_no_account(page, live_server, idp):
    provider_sign_in(page, live_server, "erin")
    expect(page.get_by_role("alert")).to_contain_text("none of your groups gives access")
    assert not OidcIdentity.objects.exists()
    assert actions("auth.oidc_failed")[-1]["payload"]["reason"] == "no_mapped_group"


def test_a_wrong_client_secret_is_refused_by_the_provider(page, live_server, idp):
    idp.OIDC_CLIENT_SECRET = "not-the-secret"
    provider_sign_in(page, live_server, "dana")
    expect(page.get_by_role("heading", name="Sign-in failed")).to_be_visible()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("refused SSOps's client credentials")
    expect(alert).not_to_contain_text("not-the-secret")
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    (failed,) = actions("auth.oidc_failed")
    assert failed["payload"]["reason"] == "client_refused"
    assert "not-the-secret" not in str(failed)
