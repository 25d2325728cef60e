"""The admin, for platform admins: policies edited there get a new version (examples must
pass), quotas and budgets are set through the audited services, published versions and
requests are read-only, webhook secrets are never shown."""

import json

import pytest

from audit.models import AuditEvent
from catalog.models import Policy, Quota, Webhook
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SOURCE = 'package admin_made\n\nimport rego.v1\n\ndeny contains "no" if input.x == 1\n'


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize(
    "path",
    [
        "/admin/catalog/template/",
        "/admin/catalog/templateversion/",
        "/admin/catalog/policy/",
        "/admin/catalog/policy/add/",
        "/admin/catalog/policydecision/",
        "/admin/catalog/quota/",
        "/admin/catalog/budget/",
        "/admin/catalog/request/",
        "/admin/catalog/webhook/add/",
    ],
)
def test_the_admin_pages_open(admin_client, path, submit, widget):
    submit()
    assert admin_client.get(path).status_code == 200


def test_a_policy_edited_in_the_admin_gets_a_new_version_and_examples_must_pass(admin_client):
    form = {
        "slug": "admin-made",
        "title": "Admin made",
        "description": "",
        "enabled": "on",
        "mode": "enforce",
        "source": SOURCE,
        "examples": json.dumps([{"name": "x", "input": {"x": 1}, "expect": {"allow": True}}]),
    }
    refused = admin_client.post("/admin/catalog/policy/add/", form)
    assert (
        refused.status_code == 200 and "expected allow True, got False" in refused.content.decode()
    )
    assert not Policy.objects.exists()
    form["examples"] = json.dumps([{"name": "x", "input": {"x": 1}, "expect": {"allow": False}}])
    assert admin_client.post("/admin/catalog/policy/add/", form).status_code == 302
    policy = Policy.objects.get()
    form["mode"] = "warn"
    assert admin_client.post(f"/admin/catalog/policy/{policy.pk}/change/", form).status_code == 302
    policy.refresh_from_db()
    assert policy.current_version.number == 2 and policy.mode == "warn"
    assert AuditEvent.objects.filter(action="policy.updated").exists()


def test_quotas_set_in_the_admin_go_through_the_service(admin_client, team):
    response = admin_client.post(
        "/admin/catalog/quota/add/", {"team": team.pk, "kind": "postgres", "max_count": 3}
    )
    assert response.status_code == 302
    assert Quota.objects.get(team=team, kind="postgres").max_count == 3
    assert AuditEvent.objects.filter(action="quota.set", team_id=team.pk).exists()


def test_a_webhook_secret_is_write_only(admin_client):
    form = {
        "name": "chat",
        "url": "https://hooks.example/x",
        "events": "[]",
        "active": "on",
        "secret": "top-secret-value",
    }
    assert admin_client.post("/admin/catalog/webhook/add/", form).status_code == 302
    hook = Webhook.objects.get()
    page = admin_client.get(f"/admin/catalog/webhook/{hook.pk}/change/").content.decode()
    assert "top-secret-value" not in page
    form["secret"] = ""
    assert admin_client.post(f"/admin/catalog/webhook/{hook.pk}/change/", form).status_code == 302
    hook.refresh_from_db()
    assert hook.secret == "top-secret-value"
    assert "top-secret-value" not in "".join(e.body for e in AuditEvent.objects.all())
