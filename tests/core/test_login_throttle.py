import pytest

from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_repeated_failures_lock_the_account_for_the_window(client, alice, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    for _ in range(3):
        assert (
            client.post("/accounts/login/", {"username": "alice", "password": "wrong"}).status_code
            == 200
        )
    locked = client.post("/accounts/login/", {"username": "alice", "password": "pw-for-tests"})
    assert locked.status_code == 429 and "Too many failed logins" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="auth.login_throttled", object_id="alice").count() == 1


def test_other_accounts_are_not_locked(client, alice, bob, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    for _ in range(2):
        client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
    response = client.post("/accounts/login/", {"username": "bob", "password": "pw-for-tests"})
    assert response.status_code == 302
