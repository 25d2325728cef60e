"""The beat job against a real Prometheus and a real Alertmanager: snapshots, alert transitions,
alerts that appear and resolve in Alertmanager, and an outbox that keeps what it could not send."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from slo import tasks
from slo.models import SLO, AlertDelivery, AlertEvent, AlertState, Snapshot
from slo.services import alert_deliveries_send
from tests.services.prometheus import free_port
from tests.slo import workload

pytestmark = [pytest.mark.prometheus, pytest.mark.django_db]

OUTAGE_PLUS_10 = workload.OUTAGE[0] + 600


def iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat()


@pytest.fixture
def wired(settings, prometheus, alertmanager, workload_slos, django_capture_on_commit_callbacks):
    settings.PROMETHEUS_URL = prometheus.url
    settings.ALERTMANAGER_URL = alertmanager.url

    def evaluate(at: float) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            tasks.evaluate(at=iso(at))

    return evaluate


def test_an_outage_pages_in_alertmanager_then_resolves(wired, alertmanager):
    wired(OUTAGE_PLUS_10)
    (fired,) = AlertEvent.objects.filter(slo__name="checkout-availability", severity="page")
    assert fired.kind == "fired" and fired.windows == ["1h/5m", "6h/30m"]
    (alert,) = alertmanager.active_alerts(slo="checkout-availability", severity="page")
    assert {k: alert["labels"][k] for k in ("slo", "service", "team", "severity")} == {
        "slo": "checkout-availability",
        "service": "checkout",
        "team": "payments",
        "severity": "page",
    }
    assert alert["annotations"]["dashboard_url"].endswith("/slos/checkout-availability/")
    assert alert["startsAt"].startswith(iso(OUTAGE_PLUS_10)[:19])

    wired(workload.END)
    resolved = AlertEvent.objects.filter(slo__name="checkout-availability", severity="page")
    assert [e.kind for e in resolved.order_by("at")] == ["fired", "resolved"]
    assert alertmanager.active_alerts(slo="checkout-availability", severity="page") == []
    assert not AlertDelivery.objects.filter(delivered_at=None).exists()


def test_a_slow_burn_opens_a_ticket_with_its_runbook(wired, alertmanager):
    wired(workload.END)
    (alert,) = alertmanager.active_alerts(slo="search-availability")
    assert alert["labels"]["severity"] == "ticket"
    assert alert["labels"]["alertname"] == "SearchAvailability"  # from the Sloth spec
    assert alert["annotations"]["runbook_url"] == "https://runbooks.example/search"
    assert not AlertState.objects.filter(
        slo__name="search-availability", severity="page", firing=True
    )


def test_the_job_stores_one_snapshot_per_slo_and_minute_however_often_it_runs(wired):
    wired(OUTAGE_PLUS_10 + 17)  # the job evaluates at the start of the minute
    events = AuditEvent.objects.filter(action__startswith="slo.alert.fired").count()
    wired(OUTAGE_PLUS_10 + 42)
    assert Snapshot.objects.count() == SLO.objects.count()
    snapshot = Snapshot.objects.get(slo__name="checkout-availability")
    assert snapshot.at.timestamp() == OUTAGE_PLUS_10 and snapshot.data_status == "ok"
    assert snapshot.burn_rates["5m"] > 14.4 and snapshot.sli is not None
    assert AlertEvent.objects.filter(kind="fired").count() == events
    assert AuditEvent.objects.filter(action__startswith="slo.alert.fired").count() == events


def test_a_failed_delivery_stays_in_the_outbox_and_is_retried(wired, settings, alertmanager):
    settings.ALERTMANAGER_URL = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    wired(OUTAGE_PLUS_10)
    waiting = AlertDelivery.objects.get(
        state__slo__name="checkout-availability", state__severity="page"
    )
    assert waiting.delivered_at is None and waiting.attempts == 1
    assert "unreachable" in waiting.last_error and waiting.next_attempt_at > timezone.now()

    settings.ALERTMANAGER_URL = alertmanager.url
    assert alert_deliveries_send().delivered == 0  # not before its retry time
    report = alert_deliveries_send(now=timezone.now() + timedelta(minutes=5))
    assert report.delivered >= 1 and report.failed == 0
    waiting.refresh_from_db()
    assert waiting.delivered_at is not None and waiting.attempts == 2
    assert alertmanager.active_alerts(slo="checkout-availability", severity="page")


def test_a_delivery_waits_for_the_earlier_messages_of_its_alert(wired, settings):
    settings.ALERTMANAGER_URL = ""
    wired(OUTAGE_PLUS_10)
    wired(workload.END)  # resolved while Alertmanager was out of reach
    kinds = AlertDelivery.objects.filter(
        state__slo__name="checkout-availability", state__severity="page"
    ).values_list("kind", "delivered_at", "last_error")
    assert [(k, d) for k, d, _ in kinds] == [("fired", None), ("resolved", None)]
    assert all("ALERTMANAGER_URL is not set" in e for *_, e in kinds[:1])
