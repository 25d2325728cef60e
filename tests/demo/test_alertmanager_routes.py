"""The demo's Alertmanager (scripts/demo-alertmanager.yml, started by ./run demo) routes each
alert to its team's receiver and groups a team's alerts of one kind together: checked with a
real Alertmanager running that configuration, fed by SSOps's own alerts."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from slo.models import PlatformAlert
from slo.services import alert_deliveries_send, platform_alert_raise
from tests.services.alertmanager import AlertmanagerServer

pytestmark = pytest.mark.django_db

CONFIG = Path(__file__).resolve().parents[2] / "scripts" / "demo-alertmanager.yml"


@pytest.fixture
def demo_alertmanager(tmp_path, settings):
    server = AlertmanagerServer(tmp_path / "alertmanager", config=CONFIG.read_text()).start()
    settings.ALERTMANAGER_URL = server.url
    yield server
    server.stop()


def raise_failure(team: str, request: str) -> PlatformAlert:
    return platform_alert_raise(
        key=f"provisioning-failed:{request}",
        alertname="ProvisioningFailed",
        severity="ticket",
        team=team,
        service="ssops-provisioning",
        summary=f"provisioning failed for {team}",
        url=f"/requests/{request}/",
        labels={"request": request},
    )


def groups_by_receiver(server: AlertmanagerServer) -> dict[str, list[dict]]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found: dict[str, list[dict]] = {}
        for group in server.groups():
            found.setdefault(group["receiver"]["name"], []).append(group)
        if found:
            return found
        time.sleep(0.2)
    return {}


def test_each_team_gets_its_alerts_grouped_by_kind(demo_alertmanager):
    raise_failure("payments", "11111111-1111-1111-1111-111111111111")
    raise_failure("payments", "22222222-2222-2222-2222-222222222222")
    raise_failure("search", "33333333-3333-3333-3333-333333333333")
    platform_alert_raise(
        key="policy-deny-spike:guard",
        alertname="PolicyDenySpike",
        severity="ticket",
        team="platform",
        service="ssops-policy",
        summary="spike",
        url="/platform-metrics/M5/",
        labels={"policy": "guard"},
    )
    assert alert_deliveries_send().delivered == 4
    alert_deliveries_send()  # nothing left: nothing posted twice
    found = groups_by_receiver(demo_alertmanager)
    assert set(found) == {"payments", "search", "platform"}
    (payments,) = found["payments"]
    assert payments["labels"] == {"alertname": "ProvisioningFailed", "team": "payments"}
    assert len(payments["alerts"]) == 2  # two requests, one group, one notification
    assert [len(g["alerts"]) for g in found["search"]] == [1]
    assert found["platform"][0]["labels"]["alertname"] == "PolicyDenySpike"
