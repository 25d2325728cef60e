"""SSOps's own SLOs, shipped as OpenSLO files and evaluated by the SLO engine like any other."""

import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command

from core.models import ApiRequestCount
from metrics.models import ProbeResult
from slo.models import SLO
from slo.services import slo_evaluate, slos_for_evaluation

pytestmark = pytest.mark.django_db

NAMES = {
    "ssops-api-availability",
    "ssops-api-latency",
    "ssops-provisioning-latency",
    "ssops-provisioning-success",
    "ssops-catalog-uptime",
}


def run(*args) -> str:
    out = io.StringIO()
    call_command("slo_import_ssops", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def platform_team(db):
    from tests.factories import TeamFactory

    return TeamFactory(slug="platform", name="Platform", cost_center="CC-1000")


def test_without_prometheus_all_five_read_ssops_records(platform_team, settings):
    settings.PROMETHEUS_URL = None
    out = run()
    assert "API availability and latency read SSOps's own records" in out
    slos = {slo.name: slo for slo in SLO.objects.select_related("data_source")}
    assert set(slos) == NAMES
    assert {name: slo.objective for name, slo in slos.items()} == {
        "ssops-api-availability": 0.999,
        "ssops-api-latency": 0.99,
        "ssops-provisioning-latency": 0.95,
        "ssops-provisioning-success": 0.99,
        "ssops-catalog-uptime": 0.9995,
    }
    assert all(slo.data_source.kind == "platform" for slo in slos.values())
    assert all(slo.team == platform_team and slo.window_duration == "30d" for slo in slos.values())
    assert "0 created, 0 updated" in run().splitlines()[0]  # idempotent


def test_with_prometheus_the_api_slo_reads_ssops_metrics_from_it(platform_team, settings):
    settings.PROMETHEUS_URL = "http://prometheus.example:9090"
    run()
    api = SLO.objects.get(name="ssops-api-availability")
    assert api.source_key().kind == "prometheus"
    assert api.total_query == 'ssops_http_requests_total{view=~"api:.*"}'
    latency = SLO.objects.get(name="ssops-api-latency")
    assert latency.source_key().kind == "prometheus"
    assert latency.numerator_query == (
        'ssops_http_request_duration_seconds_bucket{view=~"api:.*",le="0.5"}'
    )
    assert SLO.objects.get(name="ssops-catalog-uptime").data_source.kind == "platform"
    assert SLO.objects.get(name="ssops-provisioning-success").data_source.kind == "platform"


def test_the_slo_engine_evaluates_them_from_the_records(platform_team, settings, file_request):
    settings.PROMETHEUS_URL = None
    run()
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    ProbeResult.objects.bulk_create(
        [ProbeResult(at=now - timedelta(minutes=m), ok=m != 5) for m in range(1, 21)]
    )
    minute = int((now - timedelta(minutes=3)).timestamp()) // 60 * 60
    ApiRequestCount.objects.bulk_create(
        [
            ApiRequestCount(minute=minute, view="api:me", method="GET", status="200", count=999),
            ApiRequestCount(minute=minute, view="api:me", method="GET", status="500", count=1),
            ApiRequestCount(minute=minute, view="x", method="GET", status="500", count=50),
        ]
    )
    evaluations = {e.name: e for e in slo_evaluate(slos=slos_for_evaluation(), at=now)}
    assert evaluations["ssops-api-latency"].data_status == "no_data"  # those were not timed
    assert evaluations["ssops-catalog-uptime"].sli == pytest.approx(19 / 20)
    assert evaluations["ssops-catalog-uptime"].burn_rates["1h"] == pytest.approx(0.05 / 0.0005)
    assert evaluations["ssops-api-availability"].sli == pytest.approx(0.999)
    assert evaluations["ssops-provisioning-latency"].data_status == "no_data"  # none ready yet


def test_slo_evaluate_prints_them_in_the_contract(platform_team, settings):
    settings.PROMETHEUS_URL = None
    run()
    out = io.StringIO()
    call_command("slo_evaluate", "--json", stdout=out)
    printed = {item["name"]: item for item in json.loads(out.getvalue())}
    assert set(printed) >= NAMES
    assert printed["ssops-catalog-uptime"]["data_status"] == "no_data"  # never "100 % good"


def test_an_unknown_team_is_refused(db):
    with pytest.raises(CommandError, match="--team platform: no such team"):
        run()


def test_api_latency_is_the_share_of_timed_api_requests_within_500_ms(platform_team, settings):
    """Hand-worked: 1,000 timed API requests in a minute, 990 within 500 ms (10 slower); 200
    counted before durations were kept (not timed: they count neither way); 50 timed requests
    to a page (not the API)."""
    settings.PROMETHEUS_URL = None
    run()
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    minute = int((now - timedelta(minutes=3)).timestamp()) // 60 * 60
    timed = {"timed": 1000, "within_100ms": 900, "within_250ms": 950, "within_500ms": 990}
    ApiRequestCount.objects.bulk_create(
        [
            ApiRequestCount(
                minute=minute, view="api:me", method="GET", status="200", count=1000, **timed
            ),
            ApiRequestCount(minute=minute, view="api:teams", method="GET", status="200", count=200),
            ApiRequestCount(
                minute=minute,
                view="catalog:template-list",
                method="GET",
                status="200",
                count=50,
                timed=50,
            ),
        ]
    )
    (latency,) = slo_evaluate(slos=slos_for_evaluation(["ssops-api-latency"]), at=now)
    assert latency.data_status == "ok"
    assert latency.sli == pytest.approx(0.99)
    assert latency.burn_rates["1h"] == pytest.approx(1.0)  # 1 % bad against a 1 % budget


def test_provisioning_success_counts_failed_and_rolled_back_runs_as_bad(platform_team, settings):
    """Hand-worked: of five provision runs that ended in the last hour, two succeeded, one
    failed, one was rolled back (bad) and one was cancelled by its requester (neither way): 2/4.
    A teardown that failed is not provisioning."""
    from provisioning.models import ProvisioningRun

    settings.PROMETHEUS_URL = None
    run()
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    ended = now - timedelta(minutes=10)
    states = ["succeeded", "succeeded", "failed", "rolled_back", "cancelled"]
    ProvisioningRun.objects.bulk_create(
        [
            ProvisioningRun(kind="provision", template="db", state=state, finished_at=ended)
            for state in states
        ]
        + [ProvisioningRun(kind="teardown", template="db", state="failed", finished_at=ended)]
    )
    (success,) = slo_evaluate(slos=slos_for_evaluation(["ssops-provisioning-success"]), at=now)
    # Four runs: measured, but too few for an alert to fire (the low-traffic guard).
    assert success.data_status == "low_traffic" and success.sli == pytest.approx(0.5)
    assert success.burn_rates["1h"] == pytest.approx(0.5 / 0.01)
