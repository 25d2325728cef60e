"""Fault drill: Alertmanager down. Alerts wait in the outbox and reach Alertmanager once it is
back, none lost and each alert's messages in order (issue 9; the other drills are listed in
tests/ssops_site/test_fault_drills.py).

A real Prometheus and a real Alertmanager of this drill's own (tests/services/alertmanager.py),
stopped and started again on the same port, so the session's Alertmanager is untouched. The
outbox's unit behaviour (backoff, one alert's messages in order) is in test_alerting.py.
"""

from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from audit.models import AuditEvent
from slo import tasks
from slo.models import AlertDelivery, AlertEvent, AlertState
from slo.services import alert_deliveries_send
from tests.services.alertmanager import AlertmanagerServer
from tests.slo import workload
from tests.slo.test_alerting import OUTAGE_PLUS_10, iso

# One database pass is enough for a drill.
pytestmark = [pytest.mark.prometheus, pytest.mark.once, pytest.mark.django_db]


@pytest.fixture
def own_alertmanager(tmp_path):
    server = AlertmanagerServer(tmp_path / "alertmanager").start()
    yield server
    server.stop()


def alerts_held(server: AlertmanagerServer) -> dict[tuple[str, str], str]:
    """Every alert Alertmanager lists (it leaves out resolved ones): (slo, severity) -> state."""
    response = requests.get(f"{server.url}/api/v2/alerts", timeout=5)
    response.raise_for_status()
    return {
        (a["labels"]["slo"], a["labels"]["severity"]): a["status"]["state"] for a in response.json()
    }


def test_alertmanager_down_queues_alerts_and_delivers_them_all_once_it_is_back(
    settings,
    prometheus,
    own_alertmanager,
    workload_slos,
    django_capture_on_commit_callbacks,
    caplog,
):
    settings.PROMETHEUS_URL = prometheus.url
    settings.ALERTMANAGER_URL = own_alertmanager.url
    own_alertmanager.stop()

    # The page fires, then resolves while a ticket opens: all decided while Alertmanager is down
    # (each evaluation also tries a delivery on commit, as the beat job does).
    for at in (OUTAGE_PLUS_10, workload.END):
        with django_capture_on_commit_callbacks(execute=True):
            tasks.evaluate(at=iso(at))
    events = list(AlertEvent.objects.order_by("id"))
    kinds = {(e.slo.name, e.severity, e.kind) for e in events}
    assert {
        ("checkout-availability", "page", "fired"),
        ("checkout-availability", "page", "resolved"),
        ("search-availability", "ticket", "fired"),
    } <= kinds
    waiting = AlertDelivery.objects.filter(delivered_at=None)
    assert waiting.count() == AlertDelivery.objects.count() >= len(events)
    assert all("unreachable" in row.last_error for row in waiting.filter(attempts__gt=0))
    assert "kept in the outbox" in caplog.text and "checkout-availability" in caplog.text
    assert alerts_held(own_alertmanager.start()) == {}  # back, empty: nothing got through

    # The delivery job, past the retry time of every row (the beat job runs it every minute).
    report = alert_deliveries_send(now=timezone.now() + timedelta(hours=1))
    assert report.failed == 0 and report.waiting == 0
    assert not AlertDelivery.objects.filter(delivered_at=None).exists()
    # Alertmanager holds exactly what is firing now: the page's resolution arrived after its
    # firing (in the other order the page would still be active there).
    firing = set(AlertState.objects.filter(firing=True).values_list("slo__name", "severity"))
    assert ("search-availability", "ticket") in firing
    assert ("checkout-availability", "page") not in firing
    assert alerts_held(own_alertmanager) == dict.fromkeys(firing, "active")
    # Every transition was announced once, and its delivery audited.
    delivered = AuditEvent.objects.filter(action="slo.alert.delivered")
    assert delivered.count() == len(events)
