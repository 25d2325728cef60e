"""A provisioning run that fails raises an alert in the real Alertmanager (tests/services/
alertmanager.py): a page when it blocks a high-risk or production request, a ticket otherwise,
with the labels on-call routes and groups by, once per request however often it is raised, and
resolved when a later request of the template is made ready."""

from __future__ import annotations

import json

import pytest

from audit.models import AuditEvent
from catalog.services import request_approve
from provisioning.alerts import provisioning_failure_alert
from slo.models import AlertDelivery, PlatformAlert
from slo.services import alert_deliveries_send
from tests.catalog.conftest import publish
from tests.provisioning.conftest import step, template_document, webhook_step

pytestmark = pytest.mark.django_db


@pytest.fixture
def to_alertmanager(settings, alertmanager):
    settings.ALERTMANAGER_URL = alertmanager.url
    return alertmanager


def document(name: str, *steps: dict, **spec) -> dict:
    spec.setdefault("resources", {"kind": name, "count": 1})
    return template_document(name, steps=list(steps), output={"values": {}}, **spec)


def failing(receiver, name: str = "engine", **spec):
    """A template whose one step posts to a receiver that refuses (400: fails for good)."""
    return publish(document(name, webhook_step("notify", receiver.script("/no", 400)), **spec))


def fired(request) -> list[AuditEvent]:
    return [
        event
        for event in AuditEvent.objects.filter(action="alert.fired")
        if json.loads(event.body)["payload"]["labels"].get("request") == str(request.uuid)
    ]


def test_a_failed_dev_request_opens_one_ticket_for_its_team(
    provision, receiver, to_alertmanager, team
):
    failing(receiver)
    request = provision()
    assert request.state == "rolled_back"

    held = to_alertmanager.active_alerts(alertname="ProvisioningFailed", request=str(request.uuid))
    assert len(held) == 1
    assert held[0]["labels"] == {
        "alertname": "ProvisioningFailed",
        "team": "payments",
        "service": "ssops-provisioning",
        "severity": "ticket",
        "request": str(request.uuid),
        "template": "engine",
    }
    page = held[0]["annotations"]["dashboard_url"]
    assert (
        page.endswith(f"/requests/{request.uuid}/")
        and "400" in held[0]["annotations"]["description"]
    )

    # Raised again (a redelivered message, a second worker): nothing new anywhere.
    provisioning_failure_alert(request=request, error="again")
    alert_deliveries_send()
    assert len(to_alertmanager.active_alerts(request=str(request.uuid))) == 1
    assert PlatformAlert.objects.filter(key__endswith=str(request.uuid)).count() == 1
    assert AlertDelivery.objects.filter(alert__isnull=False, kind="fired").count() == 1
    assert len(fired(request)) == 1
    assert AuditEvent.objects.filter(action="alert.delivered").count() == 1


def test_a_failure_that_blocks_production_pages(provision, receiver, to_alertmanager):
    deployer = document("deployer", webhook_step("notify", receiver.script("/no", 400)))
    properties = deployer["spec"]["parameters"]["properties"]
    properties["environment"] = {"type": "string", "enum": ["dev", "prod"]}
    publish(deployer)
    request = provision("deployer", parameters={"name": "payments-one", "environment": "prod"})
    held = to_alertmanager.active_alerts(request=str(request.uuid))
    assert [a["labels"]["severity"] for a in held] == ["page"]
    assert "production" in held[0]["annotations"]["summary"]


def test_a_failure_of_a_high_risk_request_pages(
    provision, receiver, to_alertmanager, carol, alice, on_commit
):
    failing(receiver, "vaulty", riskTier="high", approvals={"required": 2, "timeout": "8h"})
    request = provision("vaulty", approver=carol)
    assert request.state == "pending_approval"
    with on_commit():
        request_approve(request=request, actor=alice)
    request.refresh_from_db()
    assert request.state == "rolled_back"
    held = to_alertmanager.active_alerts(request=str(request.uuid))
    assert [a["labels"]["severity"] for a in held] == ["page"]


def test_it_resolves_once_the_template_works_for_the_team_again(
    provision, receiver, to_alertmanager, engine_template
):
    notify = step("notify", "webhook.post", url=receiver.script("/flip", 400, 200), body={})
    engine_template(notify)
    broken = provision()
    assert broken.state == "rolled_back"
    assert len(to_alertmanager.active_alerts(request=str(broken.uuid))) == 1

    fixed = provision(parameters={"name": "payments-two"})
    assert fixed.state == "ready"
    alert = PlatformAlert.objects.get(key__endswith=str(broken.uuid))
    assert not alert.firing and str(fixed.uuid) in alert.resolution
    assert to_alertmanager.active_alerts(request=str(broken.uuid)) == []
    assert AuditEvent.objects.filter(action="alert.resolved").count() == 1
