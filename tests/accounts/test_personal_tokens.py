"""Personal API tokens: made with a name, scopes and an expiry (default and maximum set by the
platform), kept only as digests, held to their scopes, refused once expired or revoked (401,
one audit event per token and hour), revoked by their owner."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from accounts.keys import key_digest
from accounts.models import ApiToken
from accounts.services import TokenInvalid, api_token_revoke, personal_token_create
from audit.models import AuditEvent
from catalog.services import request_submit
from tests.catalog.conftest import gadget  # noqa: F401  (a medium-risk template)
from tests.factories import api_key

pytestmark = pytest.mark.django_db


def call(client, key, method="get", path="/api/me/", **kwargs):
    return getattr(client, method)(
        path, headers={"Authorization": f"Token {key}"}, content_type="application/json", **kwargs
    )


def events(action):
    return list(AuditEvent.objects.filter(action=action).order_by("seq"))


def test_a_new_token_gets_the_default_lifetime_and_only_its_digest_is_kept(api_as, bob):
    answer = api_as(bob).post(
        "/api/tokens/", {"name": "laptop", "scopes": ["write"]}, format="json"
    )
    assert answer.status_code == 201 and answer["Cache-Control"] == "no-store"
    made = answer.json()
    key = made["key"]
    assert key.startswith("ssops_") and made["shown_as"] == key[:12]
    assert made["scopes"] == ["read", "write"]  # write includes read
    token = ApiToken.objects.get(uuid=made["uuid"])
    expected = timezone.now() + timedelta(days=settings.TOKEN_DEFAULT_DAYS)
    assert abs((token.expires_at - expected).total_seconds()) < 60
    assert token.key_digest == key_digest(key)
    # The key is nowhere: not in the row, not in the audit store, not in a later answer.
    assert key not in str(ApiToken.objects.filter(pk=token.pk).values().get())
    assert not AuditEvent.objects.filter(body__contains=key[6:]).exists()
    [created] = events("token.created")
    assert created.actor_id == bob.pk and created.payload["shown_as"] == key[:12]
    listed = api_as(bob).get("/api/tokens/").json()["results"]
    assert [t["uuid"] for t in listed] == [made["uuid"]] and "key" not in listed[0]


def test_the_platform_maximum_and_bad_input_are_refused_naming_the_field(api_as, bob):
    api = api_as(bob)
    too_long = api.post(
        "/api/tokens/",
        {"name": "x", "scopes": ["read"], "days": settings.TOKEN_MAX_DAYS + 1},
        format="json",
    )
    assert too_long.status_code == 400 and "days" in too_long.json()
    assert api.post("/api/tokens/", {"name": "x", "scopes": ["root"]}, format="json").json()[
        "scopes"
    ]
    assert (
        "name" in api.post("/api/tokens/", {"name": "", "scopes": ["read"]}, format="json").json()
    )
    past = (timezone.now() - timedelta(hours=1)).isoformat()
    answer = api.post(
        "/api/tokens/", {"name": "x", "scopes": ["read"], "expires_at": past}, format="json"
    )
    assert answer.status_code == 400 and "expires_at" in answer.json()
    assert api.post(
        "/api/tokens/", {"name": "x", "scopes": ["read"], "dayz": 3}, format="json"
    ).json()["dayz"]
    assert ApiToken.objects.count() == 0 and not events("token.created")
    with pytest.raises(TokenInvalid, match="days"):
        personal_token_create(actor=bob, name="x", scopes=["read"], days=0)


def test_a_token_works_until_it_expires_then_gets_401_recorded_once_an_hour(client, bob):
    key = api_key(bob, days=1)
    assert call(client, key).json()["username"] == "bob"
    token = ApiToken.objects.get()
    assert token.last_used_at is not None
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    for _ in range(3):
        refused = call(client, key)
        assert refused.status_code == 401
        assert refused.json()["detail"].startswith("Token expired on ")
        assert refused["WWW-Authenticate"] == "Token"
    [event] = events("token.refused")
    assert event.payload["reason"] == "expired" and event.object_id == str(token.uuid)
    assert event.payload["path"] == "/api/me/" and key not in event.body
    # Not also one authn.failed per call: the refusal was recorded by the token's check.
    assert not events("authn.failed")
    # An hour later the next refusal is recorded again, once.
    ApiToken.objects.filter(pk=token.pk).update(refused_at=timezone.now() - timedelta(hours=1))
    call(client, key)
    call(client, key)
    assert len(events("token.refused")) == 2


def test_a_revoked_token_is_refused_and_an_unknown_one_recorded_per_call(client, bob):
    key = api_key(bob)
    token = ApiToken.objects.get()
    api_token_revoke(actor=bob, token=token, reason="laptop lost")
    refused = call(client, key)
    assert refused.status_code == 401 and refused.json()["detail"].startswith("Token revoked on ")
    assert [e.payload["reason"] for e in events("token.refused")] == ["revoked"]
    [revoked] = events("token.revoked")
    assert revoked.actor_id == bob.pk and revoked.payload["reason"] == "laptop lost"
    for _ in range(2):
        assert call(client, "ssops_not-a-key").status_code == 401
    assert len(events("authn.failed")) == 2


def test_a_token_is_held_to_its_scopes(client, bob, carol, team, gadget):  # noqa: F811
    reader = api_key(bob, scopes=["read"])
    body = {"template": "gadget", "team": "payments", "parameters": {"name": "payments-x"}}
    refused = call(client, reader, "post", "/api/requests/", data=body)
    assert refused.status_code == 403 and "do not include write" in refused.json()["detail"]
    [denied] = events("authz.denied")
    assert denied.actor_id == bob.pk and "scopes (read)" in denied.payload["reason"]
    writer = api_key(bob, scopes=["write"])
    assert call(client, writer, "post", "/api/requests/", data=body).status_code == 201
    item = request_submit(
        actor=bob, template="gadget", team=team, parameters={"name": "payments-y"}
    )
    approve = f"/api/requests/{item.uuid}/approve/"
    carol_writes = api_key(carol, scopes=["write"])
    refused = call(client, carol_writes, "post", approve, data={"comment": "ok"})
    assert refused.status_code == 403 and "do not include approve" in refused.json()["detail"]
    carol_approves = api_key(carol, scopes=["approve"])
    assert call(client, carol_approves, "post", approve, data={"comment": "ok"}).status_code == 200


def test_owners_list_and_revoke_their_tokens_and_nobody_else_does(api_as, bob, charlie):
    key = api_key(bob)
    token = ApiToken.objects.get()
    assert api_as(charlie).get("/api/tokens/").json()["count"] == 0
    assert api_as(charlie).post(f"/api/tokens/{token.uuid}/revoke/", {}).status_code == 404
    assert events("authz.hidden")  # charlie reached for bob's token
    answer = api_as(bob).post(
        f"/api/tokens/{token.uuid}/revoke/", {"reason": "done"}, format="json"
    )
    assert answer.status_code == 200 and answer.json()["state"] == "revoked"
    assert api_as(bob).post(f"/api/tokens/{token.uuid}/revoke/", {}).status_code == 200
    assert len(events("token.revoked")) == 1  # revoking again changes nothing
    assert key


def test_a_token_made_with_a_token_does_not_outlive_it(client, bob):
    parent = api_key(bob, days=2)
    made = call(client, parent, "post", "/api/tokens/", data={"name": "child", "scopes": ["read"]})
    assert made.status_code == 201
    child = ApiToken.objects.get(uuid=made.json()["uuid"])
    assert child.expires_at <= ApiToken.objects.get(name="test token").expires_at


def test_a_person_who_loses_access_has_every_token_stopped_by_one_call(client, bob):
    from accounts.services import user_tokens_revoke

    keys = [api_key(bob, name=f"t{n}") for n in range(3)]
    assert user_tokens_revoke(actor=None, user=bob, reason="left every mapped group") == 3
    assert all(call(client, key).status_code == 401 for key in keys)
    assert user_tokens_revoke(actor=None, user=bob, reason="again") == 0


def test_the_tokens_page_makes_a_token_shows_its_key_once_and_revokes_it(client, bob):
    client.force_login(bob)
    page = client.get("/accounts/tokens/").content.decode()
    assert "You have no API tokens yet." in page
    answer = client.post("/accounts/tokens/", {"name": "ci laptop", "scopes": ["read"], "days": 30})
    assert answer.status_code == 200 and "no-cache" in answer["Cache-Control"]
    text = answer.content.decode()
    token = ApiToken.objects.get()
    key = text.split('id="key"')[1].split('value="')[1].split('"')[0]
    assert key_digest(key) == token.key_digest and "shown this once" in text
    listing = client.get("/accounts/tokens/").content.decode()
    assert "ci laptop" in listing and key not in listing and token.key_prefix in listing
    bad = client.post("/accounts/tokens/", {"name": "x", "scopes": ["read"], "days": 100000})
    assert (
        bad.status_code == 200
        and "Ensure this value is less than or equal to" in bad.content.decode()
    )
    client.post(f"/accounts/tokens/{token.uuid}/revoke/")
    token.refresh_from_db()
    assert token.revoked_at is not None
