"""Policies through the API and the admin; user text in a policy's input cannot rewrite its
verdict."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model

from catalog.services import (
    policy_save,
)
from tests.bad_input.common import (
    RULE,
    api_body,
    changes_nothing,
)

pytestmark = pytest.mark.django_db


# --- policies through the API and the admin -----------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"source": RULE.replace("if input", "if (input")}, "source", ""),
        ({"examples": "x"}, "examples", "Expected a list"),
        ({"examples": [{"name": "x", "input": {"x": 1}, "expect": {"deny": []}}]}, "source", "x"),
        ({"title": "t" * 201}, "title", "no more than 200 characters"),
        ({"slug": "../etc"}, "slug", ""),
        ({"mode": "yolo"}, "mode", "not a valid choice"),
        ({"source": "x" * 300_000}, "source", ""),
    ],
)
def test_a_bad_policy_through_the_api_is_refused_naming_the_field(
    api_as, platform_admin, shipped, change, field, message
):
    body = {"slug": "bad-input", "title": "Bad input", "source": RULE, **change}
    with changes_nothing():
        response = api_as(platform_admin).post("/api/policies/", body, format="json")
    assert response.status_code == 400, response.content
    assert message in " ".join(map(str, response.json()[field]))


@pytest.mark.parametrize(
    ("examples", "message"),
    [
        ("[{", "not JSON: Expecting property name"),
        ('{"not": "a list"}', "a JSON list of examples"),
        (json.dumps([{"name": "x", "input": {"x": 1}, "expect": {"allow": True}}]), "expected"),
        (
            '[{"name": "\\u0000", "input": {"x": 1}, "expect": {"deny": ["no"]}}]',
            "examples: contains a NUL character",
        ),
    ],
)
def test_a_bad_policy_in_the_admin_is_refused_on_the_form(client, shipped, examples, message):
    client.force_login(
        get_user_model().objects.create_superuser("root", "root@example.test", "pw-for-tests")
    )
    form = {
        "slug": "admin-bad",
        "title": "Admin bad",
        "description": "",
        "enabled": "on",
        "mode": "enforce",
        "source": RULE,
        "examples": examples,
    }
    with changes_nothing():
        response = client.post("/admin/catalog/policy/add/", form)
    assert response.status_code == 200
    assert message in response.content.decode()


# --- Policies: user text in a policy's message cannot rewrite its verdict -----------------------


def test_a_quote_in_user_input_cannot_empty_a_deny_list(api_as, bob, free_text):
    policy_save(
        actor=None,
        slug="no-secrets",
        title="No secrets",
        source="package no_secrets\n\nimport rego.v1\n\ndeny contains msg if {\n"
        '  contains(input.request.justification, "password")\n'
        '  msg := sprintf("do not write %s", [input.request.justification])\n}\n',
    )
    sneaky = 'password x"], "deny": [], "y": ["'
    response = api_as(bob).post("/api/requests/", api_body(justification=sneaky), format="json")
    assert response.status_code == 201
    assert (response.json()["state"], response.json()["deny_reasons"]) == (
        "denied",
        [f"do not write {sneaky} (policy no-secrets)"],
    )
