"""Every URL refuses anonymous callers (except the few public ones); outsiders see nothing of
another team. The URL list is read from the URLconf, so new endpoints are covered as they land."""

import re
import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from audit.services import audit_record

PUBLIC = {"healthz", "metrics", "login", "logout"}
# `ssops login` before it holds a token: how to reach the identity provider, and the trade of
# the provider's ID token (the credential) for SSOps's token (tests/accounts/test_oidc.py).
PUBLIC |= {"oidc-settings", "oidc-device-token"}
SAMPLES = {
    "uuid": str(uuid.uuid4()),
    "pk": "1",
    "id": "1",
    "number": "1",
    "format": "json",
    "object_id": "1",
}


def _sample(match: re.Match) -> str:
    name = match.group(1)
    return SAMPLES.get(name, "x")


def _to_path(regex: str) -> str:
    path = regex.lstrip("^").rstrip("$").replace("\\Z", "")
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", _sample, path)
    path = path.replace("\\.", ".").replace("/?", "/").replace("\\", "")
    return "/" + path


def endpoints(patterns=None, prefix=""):
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        regex = prefix + entry.pattern.regex.pattern.lstrip("^").replace("\\Z", "").rstrip("$")
        if isinstance(entry, URLResolver):
            yield from endpoints(entry.url_patterns, regex)
        elif isinstance(entry, URLPattern):
            yield entry.name or "", _to_path(regex)


ALL = sorted(
    {(name, path) for name, path in endpoints() if "static" not in path and "(" not in path}
)


def test_the_url_list_is_not_empty():
    names = {name for name, _ in ALL}
    assert {"audit-event-list", "team-list", "event-list", "schema", "api-docs"} <= names


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "path"), [p for p in ALL if p[0] not in PUBLIC])
@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_callers_are_refused(client, name, path, method):
    response = getattr(client, method)(path)
    assert response.status_code in {301, 302, 401, 403, 405}, (path, response.status_code)
    if response.status_code == 302:
        assert "login" in response["Location"], (path, response["Location"])


@pytest.mark.django_db
def test_an_outsider_sees_nothing_of_another_team(api_as, client, alice, charlie, team):
    event = audit_record(
        action="secret.plan", actor=alice, team=team, object_type="x", object_id="1"
    )
    api = api_as(charlie)
    assert api.get("/api/teams/").json()["results"] == [
        t for t in api.get("/api/teams/").json()["results"] if t["slug"] == "search"
    ]
    assert api.get("/api/teams/payments/").status_code == 404
    listed = api.get("/api/audit/events/").json()["results"]
    assert all(item["action"] != "secret.plan" for item in listed)
    assert api.get(f"/api/audit/events/{event.content['uuid']}/").status_code == 404
    client.force_login(charlie)
    assert client.get(f"/audit/{event.content['uuid']}/").status_code == 404
    assert "secret.plan" not in client.get("/audit/").content.decode()


@pytest.mark.django_db
def test_a_token_authenticates_the_api(client, alice):
    from tests.factories import api_key

    key = api_key(alice)
    response = client.get("/api/teams/", headers={"Authorization": f"Token {key}"})
    assert response.status_code == 200
    assert [t["slug"] for t in response.json()["results"]] == ["payments"]
    assert client.get("/api/teams/", headers={"Authorization": "Token nope"}).status_code == 401


@pytest.mark.django_db
def test_the_schema_and_docs_need_a_login_and_then_serve(client, alice):
    assert client.get("/api/schema/").status_code in {401, 403}
    client.force_login(alice)
    schema = client.get("/api/schema/", headers={"Accept": "application/vnd.oai.openapi+json"})
    assert schema.status_code == 200 and "/api/audit/events/" in schema.content.decode()
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and "cdn" not in docs.content.decode().lower()
