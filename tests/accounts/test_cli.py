"""`ssops token list | create | revoke` for the token's owner, against a live server."""

import pytest

from accounts.models import ApiToken
from tests.catalog.test_cli import cli  # noqa: F401  (the fixture: the CLI on the live server)

pytestmark = pytest.mark.django_db(transaction=True)


def test_owners_list_create_and_revoke_their_tokens(cli, bob):  # noqa: F811
    status, out, _ = cli("token", "list", user=bob)
    assert status == 0 and "test token" in out  # the one the CLI logged in with
    status, out, err = cli("token", "create", "deploy laptop", "--scope", "write", "--days", "7")
    assert status == 0 and "shown this once" in err
    line, key = out.strip().splitlines()
    made = ApiToken.objects.get(name="deploy laptop")
    assert str(made.uuid) in line and "read,write" in line and key.startswith("ssops_")
    status, out, _ = cli("token", "list", "--json")
    assert status == 0 and key not in out and made.key_prefix in out
    status, out, _ = cli("token", "revoke", made.uuid, "--reason", "done with it")
    made.refresh_from_db()
    assert status == 0 and made.revoked_at is not None and "revoked" in out
    status, out, _ = cli("token", "list")
    assert "deploy laptop" not in out
    status, out, _ = cli("token", "list", "--all")
    assert "deploy laptop" in out
    status, _, err = cli("token", "create", "x", "--days", "100000")
    assert status == 1 and "answered 400" in err and "days" in err
    status, _, err = cli("token", "revoke", "../me")
    assert status == 1
