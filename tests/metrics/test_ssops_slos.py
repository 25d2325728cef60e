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

NAMES = {"ssops-api-availability", "ssops-provisioning-latency", "ssops-catalog-uptime"}


def run(*args) -> str:
    out = io.StringIO()
    call_command("slo_import_ssops", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def platform_team(db):
    from tests.factories import TeamFactory

    return TeamFactory(slug="platform", name="Platform", cost_center="CC-1000")


def test_without_prometheus_all_three_read_ssops_records(platform_team, settings):
    settings.PROMETHEUS_URL = None
    out = run()
    assert "API availability reads SSOps's own records" in out
    slos = {slo.name: slo for slo in SLO.objects.select_related("data_source")}
    assert set(slos) == NAMES
    assert {slo.objective for slo in slos.values()} == {0.999, 0.95, 0.9995}
    assert all(slo.data_source.kind == "platform" for slo in slos.values())
    assert all(slo.team == platform_team and slo.window_duration == "30d" for slo in slos.values())
    assert "0 created, 0 updated" in run().splitlines()[0]  # idempotent


def test_with_prometheus_the_api_slo_reads_ssops_metrics_from_it(platform_team, settings):
    settings.PROMETHEUS_URL = "http://prometheus.example:9090"
    run()
    api = SLO.objects.get(name="ssops-api-availability")
    assert api.source_key().kind == "prometheus"
    assert api.total_query == 'ssops_http_requests_total{view=~"api:.*"}'
    assert SLO.objects.get(name="ssops-catalog-uptime").data_source.kind == "platform"


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
