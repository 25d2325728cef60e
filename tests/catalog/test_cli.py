"""The `ssops` CLI against a live server: login with a token, list templates, file a request
with --param, watch it, approve it."""

import json
import stat

import pytest

from catalog.models import Request
from ssops_cli.main import main
from tests.factories import api_key

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def cli(live_server, tmp_path, monkeypatch, capsys):
    config = tmp_path / "ssops" / "config.json"
    monkeypatch.setenv("SSOPS_CONFIG", str(config))

    def run(*argv, user=None):
        if user is not None:
            token = api_key(user)
            assert main(["login", "--url", live_server.url, "--token", token]) == 0
            capsys.readouterr()
        status = main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return status, out, err

    run.config = config
    return run


def test_login_checks_the_token_and_keeps_it_private(cli, live_server, bob, capsys):
    token = api_key(bob)
    assert main(["login", "--url", live_server.url, "--token", "wrong"]) == 1
    assert "answered 401" in capsys.readouterr().err
    assert not cli.config.exists()
    assert main(["login", "--url", live_server.url, "--token", token]) == 0
    assert f"as bob (saved in {cli.config})" in capsys.readouterr().out
    assert stat.S_IMODE(cli.config.stat().st_mode) == 0o600
    assert json.loads(cli.config.read_text()) == {"url": live_server.url, "token": token}
    status, out, _ = cli("whoami")
    assert status == 0 and "teams: payments (member)" in out


def test_templates_and_a_template(cli, bob, widget, gadget):
    status, out, _ = cli("templates", user=bob)
    assert status == 0 and "gadget" in out and "widget" in out
    status, out, _ = cli("template", "widget")
    assert "name *: string" in out and "cpu: integer (default 500)" in out
    status, out, _ = cli("templates", "--json", "-q", "gadget")
    assert [t["slug"] for t in json.loads(out)] == ["gadget"]


def test_create_with_params_typed_by_the_schema(cli, bob, widget):
    status, out, _ = cli(
        "request",
        "create",
        "widget",
        "--team",
        "payments",
        "--param",
        "name=from-cli",
        "--param",
        "cpu=750",
        user=bob,
    )
    assert status == 0 and "state: provisioning" in out
    assert Request.objects.get().parameters == {"name": "from-cli", "cpu": 750}


def test_field_errors_are_printed_one_per_line(cli, bob, widget):
    status, _, err = cli(
        "request",
        "create",
        "widget",
        "--team",
        "payments",
        "--param",
        "name=Bad Name",
        "--param",
        "cpu=5",
        user=bob,
    )
    assert status == 1
    assert "parameters.name: Use the expected format" in err
    assert "parameters.cpu: Use 100 or more." in err
    status, _, err = cli("request", "create", "widget", "--team", "payments", "--param", "cpu=x")
    assert status == 2 and "'x' is not a whole number" in err
    assert not Request.objects.exists()


def test_a_medium_request_waits_then_an_approver_approves_it(cli, bob, carol, gadget):
    status, out, _ = cli(
        "request",
        "create",
        "gadget",
        "--team",
        "payments",
        "--param",
        "name=waits",
        "--json",
        user=bob,
    )
    created = json.loads(out)
    assert status == 0 and created["state"] == "pending_approval"
    status, _, err = cli("approve", created["uuid"])
    assert status == 1 and "own request" in err
    status, out, _ = cli("approvals", user=carol)
    assert created["uuid"] in out
    status, out, _ = cli("approve", created["uuid"], "--comment", "ok")
    # Celery runs eagerly here: the provisioning engine takes the approved request to ready.
    assert status == 0 and "state: ready" in out
    status, out, _ = cli(
        "request", "watch", created["uuid"], "--until", "ready", "--interval", "0.1"
    )
    assert status == 0 and out.strip().endswith("ready")
    status, out, _ = cli("request", "show", created["uuid"])
    assert "pending_approval -> approved  by carol: approved by carol" in out


def test_watch_gives_up_after_its_timeout_and_denials_exit_3(cli, bob, gadget, widget, make_policy):
    status, out, _ = cli(
        "request",
        "create",
        "gadget",
        "--team",
        "payments",
        "--param",
        "name=slow",
        "--json",
        user=bob,
    )
    uuid = json.loads(out)["uuid"]
    status, _, err = cli("request", "watch", uuid, "--timeout", "0.2", "--interval", "0.1")
    assert status == 4 and "still pending_approval" in err
    make_policy("no", 'deny contains "never" if true')
    status, out, _ = cli("request", "create", "widget", "--team", "payments", "--param", "name=no")
    assert status == 3 and "denied: never (policy no)" in out
