"""NUL characters anywhere in a request."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from tests.bad_input.common import (
    RULE,
    changes_nothing,
)

pytestmark = pytest.mark.django_db


# --- NUL characters anywhere in a request -------------------------------------------------------

NUL_REQUESTS = [
    # (who, method, path, body, the place the answer names)
    ("platform_admin", "get", "/api/teams/a%00b/", None, "the URL path"),
    ("platform_admin", "get", "/api/policies/x%00/", None, "the URL path"),
    ("platform_admin", "get", "/api/slos/x%00/", None, "the URL path"),
    (
        "platform_admin",
        "get",
        "/api/platform-metrics/m1/history/?team=a%00",
        None,
        "the query parameter 'team'",
    ),
    ("platform_admin", "get", "/api/job-runs/?name=a%00", None, "the query parameter 'name'"),
    (
        "platform_admin",
        "get",
        "/api/platform-metric-snapshots/?te%00am=a",
        None,
        "the query parameter 'te\\x00am'",
    ),
    ("bob", "get", "/slos/x%00/", None, "the URL path"),
    ("bob", "get", "/dashboards/slos/x%00/", None, "the URL path"),
    ("bob", "get", "/audit/?actor=a%00", None, "the query parameter 'actor'"),
    ("oncall", "post", "/incidents/open/", {"title": "a\x00b"}, "the form field 'title'"),
    (
        "oncall",
        "post",
        "/incidents/open/",
        {"title": "ok", "team": "\x00"},
        "the form field 'team'",
    ),
    (
        None,
        "post",
        "/accounts/login/",
        {"username": "bob\x00", "password": "x"},
        "the form field 'username'",
    ),
    (
        "bob",
        "post",
        "/api/requests/",
        {"template": "free-text", "team": "payments", "parameters": {"name": "a\x00"}},
        "the body, field 'parameters', field 'name'",
    ),
    (
        "platform_admin",
        "post",
        "/api/policies/",
        {"slug": "p", "title": "t", "source": RULE, "examples": [{"name": "\x00"}]},
        "the body, field 'examples', item 0, field 'name'",
    ),
]


@pytest.mark.parametrize(
    ("who", "method", "path", "body", "place"),
    NUL_REQUESTS,
    ids=[f"{r[1]} {r[2]}" for r in NUL_REQUESTS],
)
def test_a_nul_character_anywhere_is_a_400_naming_where(
    request, free_text, shipped, who, method, path, body, place
):
    caller = Client(raise_request_exception=True)
    if who:
        caller.force_login(request.getfixturevalue(who))
    is_json = path.startswith("/api/")
    kwargs = {"content_type": "application/json"} if is_json and body else {}
    payload = json.dumps(body) if is_json and body else body
    with changes_nothing():
        response = getattr(caller, method)(path, payload, **kwargs)
    assert response.status_code == 400
    text = response.json()["detail"] if is_json else response.content.decode()
    assert f"Refused: {place} contains a NUL character" in text
