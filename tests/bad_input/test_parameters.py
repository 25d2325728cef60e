"""Request and runbook parameters: API, web form, runbook runs, CLI."""

from __future__ import annotations

import json

import pytest

from tests.bad_input.common import (
    api_body,
    changes_nothing,
)
from tests.factories import api_key

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"parameters": {"name": "fine\n"}}, "parameters", "control characters"),
        ({"parameters": {"name": "fine", "note": "a\tb"}}, "parameters", "control characters"),
        ({"parameters": {"name": "x" * 100_000}}, "parameters", "at most 30 characters"),
        ({"parameters": {"name": "fine", "cpu": 10**30}}, "parameters", "4000 or less"),
        ({"parameters": {"name": "fine", "cpu": "1e3"}}, "parameters", "a whole number"),
        ({"parameters": {"name": "fine", "../etc": 1}}, "parameters", "'../etc' was unexpected"),
        ({"parameters": {"name": ["fine"]}}, "parameters", "Enter text"),
        ({"ttl_hours": 10**30}, "ttl_hours", "hours or less"),
        ({"ttl_hour": 1}, "ttl_hour", "Unknown field"),
        ({"justification": "j" * 2001}, "justification", "at most 2000"),
        ({"template": "../../etc/passwd"}, "template", "slug"),
        ({"team": "<script>"}, "team", "slug"),
        ({"version": "1" * 10_000}, "version", "has no version"),
    ],
)
def test_bad_request_parameters_through_the_api_are_400_naming_the_field(
    api_as, bob, free_text, change, field, message
):
    with changes_nothing():
        response = api_as(bob).post("/api/requests/", api_body(**change), format="json")
    assert response.status_code == 400, response.content
    assert message in json.dumps(response.json()[field])


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (b'{"template": "free-text", "team": ', "application/json", "JSON parse error"),
        (b'{"template": "free-\xff\xfe"}', "application/json", "JSON parse error"),
        (b"\x00\x01\x02", "application/octet-stream", "Unsupported media type"),
        (b"[" * 100_000, "application/json", "JSON parse error"),
    ],
)
def test_a_body_that_is_not_json_is_refused(api_as, bob, free_text, body, content_type, message):
    api = api_as(bob)
    with changes_nothing():
        response = api.generic("POST", "/api/requests/", body, content_type=content_type)
    assert response.status_code in (400, 415)
    assert message in response.json()["detail"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"param_name": "Not Valid"}, "Use the expected format"),
        ({"param_cpu": "lots"}, "Enter a whole number."),
        ({"param_cpu": str(10**30)}, "Use 4000 or less."),
        ({"ttl_hours": "-5"}, "Enter a whole number of hours, 1 or more."),
        ({"ttl_hours": str(10**30)}, "hours or less for this template"),
        ({"justification": "j" * 2001}, "at most 2000 characters"),
        ({"team": "search"}, "Select a valid choice"),
        ({"param_note": "n" * 201}, "at most 200 characters"),
    ],
)
def test_bad_values_in_the_request_form_come_back_on_the_form(
    client, bob, free_text, change, message
):
    client.force_login(bob)
    form = {"team": "payments", "ttl_hours": "24", "param_name": "fine", **change}
    with changes_nothing():
        response = client.post("/catalog/free-text/request/", form)
    assert response.status_code == 200
    assert message in response.content.decode()


@pytest.mark.parametrize(
    ("parameters", "justification", "field", "message"),
    [
        ({"pattern": "sessions:*\n"}, "", "pattern", "control characters"),
        ({"pattern": "*" * 10_000}, "", "pattern", "Use a key prefix"),
        ({"pattern": "a", "../extra": 1}, "", "non_field_errors", "'../extra' was unexpected"),
        ({"pattern": 7}, "", "pattern", "Enter text."),
        ({"pattern": "a"}, "j" * 2001, "justification", "at most 2000"),
    ],
)
def test_bad_runbook_parameters_through_the_api_are_400_naming_the_field(
    api_as, oncall, shipped, parameters, justification, field, message
):
    body = {"parameters": parameters, "justification": justification}
    with changes_nothing():
        response = api_as(oncall).post("/api/runbooks/flush-cache/run/", body, format="json")
    assert response.status_code == 400, response.content
    errors = response.json()
    assert message in json.dumps(errors.get("parameters", {}).get(field) or errors.get(field))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"param_pattern": "a b"}, "Use a key prefix"),
        ({"param_pattern": ""}, "This field is required."),
        ({"team": "nope"}, "Select a valid choice"),
        ({"justification": "j" * 2001}, "at most 2000 characters"),
    ],
)
def test_bad_values_in_the_runbook_form_come_back_on_the_form(
    client, oncall, shipped, change, message
):
    client.force_login(oncall)
    with changes_nothing():
        page = client.post("/runbooks/flush-cache/run/", {"param_pattern": "a", **change})
    assert page.status_code == 200 and message in page.content.decode()


@pytest.mark.django_db(transaction=True)
def test_the_cli_refuses_bad_parameters_and_names_that_leave_their_path(
    live_server, tmp_path, monkeypatch, capsys, bob, free_text
):
    from ssops_cli.main import main

    monkeypatch.setenv("SSOPS_CONFIG", str(tmp_path / "config.json"))
    assert main(["login", "--url", live_server.url, "--token", api_key(bob)]) == 0
    capsys.readouterr()
    create = ["request", "create", "free-text", "--team", "payments"]
    cases = [
        ([*create, "--param", "name=fine\n"], 1, "parameters.name: Use no control characters"),
        ([*create, "--param", "name=fine", "--param", "cpu=1e999"], 2, "--param cpu: '1e999'"),
        ([*create, "--param", "=fine"], 2, "use name=value"),
        ([*create, "--param", "name=fine", "--param", "colour=red"], 1, "'colour' was unexpected"),
        (["template", "../teams"], 1, "GET /api/templates/..%2Fteams/ answered 404"),
        (["template", ".."], 2, "'..' is not a name or id"),
        (
            ["request", "show", "../../teams/payments"],
            1,
            "/api/requests/..%2F..%2Fteams%2Fpayments/ answered 404",
        ),
        (
            ["approve", "../../policies/x/evaluate"],
            1,
            "/api/requests/..%2F..%2Fpolicies%2Fx%2Fevaluate/approve/ answered 404",
        ),
    ]
    with changes_nothing():
        for argv, status, message in cases:
            assert main(argv) == status, argv
            assert message in capsys.readouterr().err, argv
