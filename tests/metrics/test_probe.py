"""M3's synthetic probe: over HTTP at SSOPS_BASE_URL, as a user with no team would, once a
minute."""

from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model

from audit.models import AuditEvent
from core.models import JobRun
from metrics import tasks
from metrics.models import ProbeResult
from metrics.probe import PROBE_USER, catalog_probe
from tests.catalog.conftest import publish, template_document

pytestmark = pytest.mark.django_db(transaction=True)

MINUTE = datetime(2026, 1, 7, 10, 15, 42, tzinfo=UTC)


@pytest.fixture
def catalog_served(live_server, settings):
    publish(template_document("widget"))
    settings.SSOPS_BASE_URL = live_server.url
    return live_server


def test_the_probe_lists_the_catalog_and_opens_a_template_as_a_user(catalog_served):
    result = catalog_probe(at=MINUTE)
    assert result.ok, result.error
    assert (result.at, result.status_code) == (MINUTE.replace(second=0), 200)
    assert result.latency_ms > 0
    user = get_user_model().objects.get(username=PROBE_USER)
    assert not user.has_usable_password() and not user.memberships.exists()
    assert AuditEvent.objects.filter(action="user.created", object_id=str(user.pk)).exists()


def test_a_minute_is_probed_once(catalog_served, settings):
    first = catalog_probe(at=MINUTE)
    settings.SSOPS_BASE_URL = "http://127.0.0.1:9"  # would fail if it probed again
    again = catalog_probe(at=MINUTE.replace(second=59))
    assert again.pk == first.pk and again.ok and ProbeResult.objects.count() == 1


def test_an_unreachable_catalog_is_a_failed_minute(db, settings):
    settings.SSOPS_BASE_URL = "http://127.0.0.1:9"
    result = catalog_probe(at=MINUTE)
    assert not result.ok and result.status_code is None
    assert "GET http://127.0.0.1:9/api/templates/" in result.error


def test_an_error_answer_is_a_failed_minute_with_its_status(catalog_served, settings):
    settings.SSOPS_BASE_URL = f"{catalog_served.url}/nowhere"
    result = catalog_probe(at=MINUTE)
    assert not result.ok and result.status_code == 404 and "answered 404" in result.error


def test_the_beat_task_probes_the_current_minute_and_records_its_run(catalog_served):
    assert tasks.probe_catalog() is True
    assert ProbeResult.objects.get().ok
    run = JobRun.objects.get(name="metrics.tasks.probe_catalog")
    assert run.outcome == "ok" and run.result is True
