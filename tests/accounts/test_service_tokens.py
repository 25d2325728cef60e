"""Service tokens: owned by a team (its admins make, rotate and revoke them), acting as
NAME@TEAM, every use in the audit store under that name; a rotation keeps the old key working
for the overlap, so a pipeline switches keys without a failed call."""

import threading
import time

import pytest
import requests
from django.utils import timezone

from accounts.models import ApiToken
from accounts.services import service_token_create
from audit.models import AuditEvent
from teams.models import Membership
from tests.factories import api_key

pytestmark = pytest.mark.django_db


def test_team_admins_make_service_tokens_and_members_do_not(api_as, alice, bob, charlie, team):
    body = {"team": "payments", "name": "deploy", "scopes": ["write"], "days": 30}
    refused = api_as(bob).post("/api/service-tokens/", body, format="json")
    assert refused.status_code == 403 and not ApiToken.objects.exists()
    made = api_as(alice).post("/api/service-tokens/", body, format="json")
    assert made.status_code == 201
    data = made.json()
    assert (data["kind"], data["team"], data["acts_as"]) == (
        "service",
        "payments",
        "deploy@payments",
    )
    identity = ApiToken.objects.get().user
    assert not identity.has_usable_password()
    assert Membership.objects.get(user=identity, team=team).role == "member"
    again = api_as(alice).post("/api/service-tokens/", body, format="json")
    assert again.status_code == 400 and "rotate it instead" in again.json()["name"][0]
    unknown = api_as(alice).post("/api/service-tokens/", {**body, "team": "nowhere"}, format="json")
    assert unknown.status_code == 400 and "team" in unknown.json()
    # The team sees its tokens; another team does not.
    assert api_as(bob).get("/api/service-tokens/?team=payments").json()["count"] == 1
    assert api_as(charlie).get("/api/service-tokens/").json()["count"] == 0
    uuid = data["uuid"]
    assert api_as(charlie).post(f"/api/service-tokens/{uuid}/rotate/", {}).status_code == 404
    assert api_as(bob).post(f"/api/service-tokens/{uuid}/revoke/", {}).status_code == 403


def test_every_use_is_audited_with_the_tokens_name_as_its_actor(client, alice, team):
    minted = service_token_create(actor=alice, team=team, name="ci", scopes=["approve"])
    assert Membership.objects.get(user=minted.token.user).role == "approver"
    for _ in range(3):
        answer = client.get("/api/requests/", headers={"Authorization": f"Bearer {minted.key}"})
        assert answer.status_code == 200
    used = AuditEvent.objects.filter(action="token.used")
    assert used.count() == 3
    assert set(used.values_list("actor_name", flat=True)) == {"ci@payments"}
    assert set(used.values_list("team_id", flat=True)) == {team.pk}
    assert str(minted.key) not in "".join(used.values_list("body", flat=True))


def test_rotation_keeps_both_keys_working_for_the_overlap_then_only_the_new_one(
    api_as, client, alice, team
):
    minted = service_token_create(actor=alice, team=team, name="ci", scopes=["read"], days=30)
    rotated = api_as(alice).post(
        f"/api/service-tokens/{minted.token.uuid}/rotate/", {"overlap_hours": 2}, format="json"
    )
    assert rotated.status_code == 201
    new_key = rotated.json()["key"]
    for key in (str(minted.key), new_key):
        assert client.get("/api/me/", headers={"Authorization": f"Token {key}"}).status_code == 200
    old = ApiToken.objects.get(pk=minted.token.pk)
    assert abs((old.expires_at - timezone.now()).total_seconds() - 7200) < 60
    new = ApiToken.objects.get(uuid=rotated.json()["uuid"])
    assert new.rotated_from == old and new.user == old.user and new.scopes == old.scopes
    assert (new.expires_at - new.created_at).days == 30
    twice = api_as(alice).post(f"/api/service-tokens/{old.uuid}/rotate/", {}, format="json")
    assert twice.status_code == 400 and "rotate its successor" in twice.json()["token"][0]
    ApiToken.objects.filter(pk=old.pk).update(expires_at=timezone.now())
    assert (
        client.get("/api/me/", headers={"Authorization": f"Token {minted.key}"}).status_code == 401
    )
    assert client.get("/api/me/", headers={"Authorization": f"Token {new_key}"}).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_pipeline_calling_all_along_a_rotation_never_fails(live_server, alice, team):
    """Real HTTP against a live server: a pipeline calls every few milliseconds with whatever
    key its secret store holds, while a team admin rotates the token, the store is updated a
    moment later (so calls are still made with the old key after the rotation), and the old
    key is revoked at the end of the overlap."""
    minted = service_token_create(actor=alice, team=team, name="deploy", scopes=["read"])
    admin = requests.Session()
    admin.headers["Authorization"] = f"Token {api_key(alice)}"
    store = {"key": str(minted.key)}
    calls: list[tuple[str, int]] = []
    stop = threading.Event()

    def pipeline():
        with requests.Session() as session:
            while not stop.is_set():
                key = store["key"]
                answer = session.get(
                    f"{live_server.url}/api/requests/",
                    headers={"Authorization": f"Token {key}"},
                    timeout=30,
                )
                calls.append((key, answer.status_code))
                time.sleep(0.01)

    worker = threading.Thread(target=pipeline)
    worker.start()
    try:
        while len(calls) < 10:
            time.sleep(0.01)
        rotated = admin.post(
            f"{live_server.url}/api/service-tokens/{minted.token.uuid}/rotate/",
            json={"overlap_hours": 1},
            timeout=30,
        )
        assert rotated.status_code == 201, rotated.text
        rotated_at = len(calls)
        while len(calls) < rotated_at + 10:  # the pipeline still has the old key
            time.sleep(0.01)
        store["key"] = rotated.json()["key"]
        switched_at = len(calls)
        while len(calls) < switched_at + 10:
            time.sleep(0.01)
        revoked = admin.post(
            f"{live_server.url}/api/service-tokens/{minted.token.uuid}/revoke/",
            json={"reason": "rotation done"},
            timeout=30,
        )
        assert revoked.status_code == 200
        done_at = len(calls)
        while len(calls) < done_at + 10:
            time.sleep(0.01)
    finally:
        stop.set()
        worker.join(30)
    assert {status for _, status in calls} == {200}, calls
    old, new = str(minted.key), store["key"]
    assert sum(key == old for key, _ in calls[rotated_at:]) >= 10  # both keys worked at once
    assert sum(key == new for key, _ in calls) >= 20
    after = requests.get(
        f"{live_server.url}/api/requests/", headers={"Authorization": f"Token {old}"}, timeout=30
    )
    assert after.status_code == 401
    used = AuditEvent.objects.filter(action="token.used")
    assert used.count() == len(calls)
    assert set(used.values_list("actor_name", flat=True)) == {"deploy@payments"}


def test_the_service_tokens_page_lets_team_admins_make_rotate_and_revoke(client, alice, bob):
    client.force_login(bob)
    page = client.get("/accounts/service-tokens/").content.decode()
    assert "Your teams' admins create service tokens." in page
    assert client.post("/accounts/service-tokens/", {"team": "payments"}).status_code == 403
    client.force_login(alice)
    made = client.post(
        "/accounts/service-tokens/",
        {"team": "payments", "name": "deploy", "scopes": ["read"], "days": 10},
    )
    assert made.status_code == 200 and "shown this once" in made.content.decode()
    token = ApiToken.objects.get()
    bad = client.post(
        "/accounts/service-tokens/",
        {"team": "payments", "name": "Not A Name", "scopes": ["read"], "days": 10},
    )
    assert "Use lower-case letters, digits and hyphens." in bad.content.decode()
    rotated = client.post(f"/accounts/service-tokens/{token.uuid}/rotate/", {"overlap_hours": 1})
    assert "Replaces" in rotated.content.decode() and ApiToken.objects.count() == 2
    listing = client.get("/accounts/service-tokens/").content.decode()
    assert "(rotated: works until then)" in listing and "rotation of" in listing
    client.post(f"/accounts/service-tokens/{token.uuid}/revoke/", {"reason": "done"})
    token.refresh_from_db()
    assert token.revoked_at is not None and token.revoked_by == alice
