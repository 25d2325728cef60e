"""The `ssops` CLI for resources and runbooks, against a live server (Celery eager: a request
is provisioned by the time `request create` answers)."""

import pytest

from provisioning.models import Resource, RunbookRun
from tests.catalog.test_cli import cli  # noqa: F401  (the fixture: the CLI on the live server)
from tests.provisioning.test_runbooks import publish_runbook

pytestmark = pytest.mark.django_db(transaction=True)


def test_owners_list_show_extend_and_delete_resources(cli, bob, widget):  # noqa: F811
    status, _, _ = cli(
        "request", "create", "widget", "--team", "payments", "--param", "name=cli-ns", user=bob
    )
    assert status == 0
    resource = Resource.objects.get()
    status, out, _ = cli("resources")
    assert status == 0 and str(resource.uuid) in out and "active" in out
    status, out, _ = cli("resource", "show", resource.uuid)
    assert status == 0 and f"request {resource.request.uuid} (widget" in out
    before = resource.expires_at
    status, _, _ = cli("resource", "extend", resource.uuid, "--hours", "24")
    resource.refresh_from_db()
    assert status == 0 and resource.expires_at > before
    status, _, err = cli("resource", "extend", resource.uuid, "--hours", "100000")
    assert status == 1 and "answered 400" in err and "hours" in err
    status, _, err = cli("resource", "secret", resource.uuid)  # a namespace has no secret
    assert status == 1 and "answered 410" in err
    status, out, _ = cli("resource", "delete", resource.uuid)
    resource.refresh_from_db()
    assert status == 0 and "teardown run" in out and resource.state == "deleted"
    status, out, _ = cli("resources", "--state", "active")
    assert out.strip() == "no resources"


def test_oncall_runs_runbooks_and_a_denied_run_exits_3(cli, oncall, receiver, team, demo_policies):  # noqa: F811
    publish_runbook(receiver.script("/ping", 200))
    status, out, _ = cli("runbooks", user=oncall)
    assert status == 0 and "ping-service" in out
    status, out, _ = cli(
        "runbook",
        "run",
        "ping-service",
        "--team",
        "payments",
        "--param",
        "service=checkout",
        "--param",
        "environment=prod",
        "--justification",
        "now",
    )
    assert status == 3 and "denied: " in out and "justification of at least 20" in out
    status, out, _ = cli(
        "runbook", "run", "ping-service", "--team", "payments", "--param", "service=api"
    )
    assert status == 0
    assert [r.state for r in RunbookRun.objects.order_by("id")] == ["denied", "succeeded"]
