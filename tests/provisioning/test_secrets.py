"""A new database's password: encrypted at rest, shown once to the requester, and nowhere
else — not in audit rows, logs, step logs, API answers or pages (grepped for the password)."""

import logging

import pytest

from audit.models import AuditEvent
from provisioning import crypto
from provisioning.models import ResourceSecret, RunStep
from tests.provisioning.conftest import database_step

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture
def database(provision, engine_template, pg_server, caplog):
    caplog.set_level(logging.DEBUG)
    engine_template(database_step(), name="engine")
    request = provision()
    assert request.state == "ready"
    stored = ResourceSecret.objects.select_related("resource").get()
    return request, stored.resource, str(crypto.decrypt(stored.ciphertext))


def everything_shown(client, api, request, resource) -> str:
    """Every page and API answer about the request and its resource, as one text."""
    texts = [
        client.get(f"/requests/{request.uuid}/").content.decode(),
        client.get(f"/requests/{request.uuid}/timeline/").content.decode(),
        client.get(f"/resources/{resource.uuid}/").content.decode(),
        client.get("/resources/").content.decode(),
        api.get(f"/api/requests/{request.uuid}/").content.decode(),
        api.get(f"/api/resources/{resource.uuid}/").content.decode(),
        api.get("/api/runs/").content.decode(),
        api.get("/api/steps/").content.decode(),
    ]
    texts += [api.get(f"/api/steps/{s.uuid}/").content.decode() for s in RunStep.objects.all()]
    return "\n".join(texts)


def test_the_password_is_nowhere_but_the_one_time_reveal(database, client, api, bob, caplog):
    request, resource, password = database
    client.force_login(bob)
    api.force_authenticate(bob)
    assert ResourceSecret.objects.get().ciphertext.count(password) == 0
    bodies = "\n".join(AuditEvent.objects.values_list("body", flat=True))
    assert "postgres.database" in bodies and password not in bodies
    steps = "\n".join(str(s.log) + str(s.output) + str(s.input) for s in RunStep.objects.all())
    assert password not in steps
    before = everything_shown(client, api, request, resource)
    assert "Show the password of" in before and password not in before

    shown = client.post(f"/resources/{resource.uuid}/secret/")
    assert shown.status_code == 200 and "no-store" in shown["Cache-Control"]
    assert shown.content.decode().count(password) == 1

    again = client.post(f"/resources/{resource.uuid}/secret/")
    assert again.status_code == 302  # back to the resource, with "already shown"
    assert api.post(f"/api/resources/{resource.uuid}/reveal-secret/").status_code == 410
    after = everything_shown(client, api, request, resource)
    assert password not in after and "Show the password" not in after
    assert ResourceSecret.objects.get().ciphertext == ""
    assert AuditEvent.objects.filter(action="resource.secret_revealed").count() == 1
    assert password not in "\n".join(AuditEvent.objects.values_list("body", flat=True))
    assert password not in caplog.text


def test_only_the_requester_sees_it_and_the_api_shows_it_once(database, api, alice, bob):
    request, resource, password = database
    assert api_as_status(api, alice, resource) == 403
    api.force_authenticate(bob)
    answer = api.post(f"/api/resources/{resource.uuid}/reveal-secret/")
    assert answer.status_code == 200 and answer.json() == {
        "name": resource.name,
        "password": password,
    }
    assert answer["Cache-Control"] == "no-store"


def api_as_status(api, user, resource) -> int:
    api.force_authenticate(user)
    return api.post(f"/api/resources/{resource.uuid}/reveal-secret/").status_code
