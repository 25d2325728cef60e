"""`drf_create_token USER` keeps its name and output; DRF's tokens made before SSOps had its
own move over with an expiry, still working; owners are warned before their tokens expire."""

import io
import sqlite3
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.models import ApiToken
from accounts.services import expiry_warnings_send, service_token_create
from audit.models import AuditEvent
from tests.factories import UserFactory, api_key
from tests.test_house_migration import FIXTURES, SQLite, manage

pytestmark = pytest.mark.django_db


def test_drf_create_token_prints_a_key_that_works(client, bob):
    out = io.StringIO()
    call_command("drf_create_token", "bob", stdout=out)
    words = out.getvalue().split()
    assert words[:2] == ["Generated", "token"] and words[3:] == ["for", "user", "bob"]
    key = words[2]
    answer = client.get("/api/me/", headers={"Authorization": f"Token {key}"})
    assert answer.status_code == 200 and answer.json()["username"] == "bob"
    token = ApiToken.objects.get()
    assert token.name == "drf_create_token" and token.scopes == ["read", "write", "approve"]
    assert token.expires_at > timezone.now() + timedelta(days=89)
    call_command("drf_create_token", "bob", "--reset", "--scope", "read", "--days", "7", stdout=out)
    assert ApiToken.objects.valid().get().scopes == ["read"]
    assert client.get("/api/me/", headers={"Authorization": f"Token {key}"}).status_code == 401
    with pytest.raises(CommandError, match="user nobody does not exist"):
        call_command("drf_create_token", "nobody")


def test_owners_are_warned_before_expiry_once_per_threshold(
    client, alice, bob, team, settings, django_capture_on_commit_callbacks
):
    settings.TOKEN_WARNING_DAYS = [14, 3]
    api_key(bob, name="soon", days=10)
    api_key(bob, name="later", days=60)
    service_token_create(actor=alice, team=team, name="ci", scopes=["read"], days=2)
    with django_capture_on_commit_callbacks(execute=True):
        assert expiry_warnings_send() == 2
    subjects = sorted(m.subject for m in mail.outbox)
    assert subjects == [
        "[SSOps] team payments's service token ci expires in 2 days",
        "[SSOps] your API token soon expires in 10 days",
    ]
    recipients = {m.subject: m.to for m in mail.outbox}
    assert recipients[subjects[0]] == ["alice@example.test"]
    assert "/accounts/service-tokens/" in mail.outbox[0].body + mail.outbox[1].body
    assert expiry_warnings_send() == 0  # once per threshold
    assert AuditEvent.objects.filter(action="token.expiry_warning").count() == 2
    later = timezone.now() + timedelta(days=8)
    assert expiry_warnings_send(now=later) == 1  # "soon" passes its 3-day threshold
    client.force_login(bob)
    page = client.get("/accounts/tokens/").content.decode()
    assert "1 of your tokens expires soon" in page and "<strong>soon</strong>" in page


@pytest.mark.once
def test_drf_tokens_of_an_old_database_migrate_with_an_expiry(tmp_path):
    """The database made before the house split, with a DRF token added as DRF stored it,
    migrated by today's code: the same key works, now with an expiry, and no key is left in
    clear."""
    path = tmp_path / "old.sqlite3"
    import gzip

    dump = (FIXTURES / "seed_demo_before_house.sqlite.sql.gz").read_bytes()
    old_key = "0123456789abcdef0123456789abcdef01234567"
    with sqlite3.connect(path) as db:
        db.executescript(gzip.decompress(dump).decode())
        (dev,) = db.execute("SELECT id FROM auth_user WHERE username = 'dev'").fetchone()
        db.execute(
            "INSERT INTO authtoken_token (key, created, user_id) VALUES (?, ?, ?)",
            [old_key, "2025-01-02 03:04:05.000000", dev],
        )
    url = f"sqlite:///{path}"
    migrated = manage(url, tmp_path, "migrate", "--no-input")
    assert migrated.returncode == 0, migrated.stderr
    assert SQLite(path)("SELECT count(*) FROM authtoken_token") == [(0,)]
    checked = manage(url, tmp_path, "shell", "--no-imports", "-c", CHECK.replace("KEY", old_key))
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.split() == ["dev", "01234567", "True", "200", "1"], checked.stdout
    verified = manage(url, tmp_path, "audit_verify")
    assert verified.returncode == 0, verified.stdout


CHECK = """
from datetime import timedelta
from django.test import Client
from django.utils import timezone
from accounts.models import ApiToken
from audit.models import AuditEvent
token = ApiToken.objects.get()
print(token.user.username, token.key_prefix)
print(timezone.now() + timedelta(days=89) < token.expires_at < timezone.now() + timedelta(days=91))
print(Client().get("/api/me/", headers={"Authorization": "Token KEY"}).status_code)
print(AuditEvent.objects.filter(action="token.migrated").count())
"""


def test_a_service_identity_gets_no_personal_token(alice, team):
    minted = service_token_create(actor=alice, team=team, name="ci", scopes=["read"])
    with pytest.raises(CommandError, match="service identity"):
        call_command("drf_create_token", minted.token.user.username, stdout=io.StringIO())
    assert UserFactory(username="plain")


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        ({"SSOPS_TOKEN_MAX_DAYS": "0"}, "SSOPS_TOKEN_MAX_DAYS=0 is below the minimum of 1"),
        (
            {"SSOPS_TOKEN_DEFAULT_DAYS": "400", "SSOPS_TOKEN_MAX_DAYS": "365"},
            "SSOPS_TOKEN_DEFAULT_DAYS=400 is above SSOPS_TOKEN_MAX_DAYS=365",
        ),
        ({"SSOPS_TOKEN_WARNING_DAYS": "soon"}, "SSOPS_TOKEN_WARNING_DAYS='soon' must list"),
        ({"SSOPS_TOKEN_ROTATION_OVERLAP_HOURS": "x"}, "is not a whole number"),
    ],
)
def test_a_bad_token_setting_stops_start_up_naming_it(environment, message):
    from tests.helpers import start_up

    result = start_up(**environment)
    assert result.returncode != 0 and "ImproperlyConfigured" in result.stderr
    assert message in result.stderr
