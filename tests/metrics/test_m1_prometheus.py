"""M1 read from a real Prometheus (ssops_http_requests_total), the way the SLO engine reads it."""

import pytest

from metrics.compute import metric_compute
from metrics.periods import period_containing
from tests.metrics import api_traffic
from tests.metrics.conftest import AFTER, DAY
from tests.services.prometheus import PrometheusServer, cached_blocks

pytestmark = [pytest.mark.django_db, pytest.mark.prometheus]


@pytest.fixture(scope="module")
def traffic_prometheus(tmp_path_factory):
    blocks = cached_blocks("ssops-api-traffic", api_traffic.generate)
    server = PrometheusServer(tmp_path_factory.mktemp("api-traffic"), blocks).start()
    yield server
    server.stop()


def test_m1_counts_api_requests_in_prometheus_and_leaves_pages_out(traffic_prometheus, settings):
    settings.PROMETHEUS_URL = traffic_prometheus.url
    outcome = metric_compute("M1", period_containing("day", DAY), AFTER)
    (figure,) = outcome.figures
    total = api_traffic.GOOD + api_traffic.BAD
    assert figure.extras["total"] == pytest.approx(total)
    assert figure.extras["successful"] == pytest.approx(api_traffic.GOOD)
    assert figure.value == pytest.approx(api_traffic.GOOD / total)  # 0.990099…
    assert outcome.detail == f"source: Prometheus at {traffic_prometheus.url}"
    oracle = traffic_prometheus.value(
        'sum(increase(ssops_http_requests_total{view=~"api:.*"}[1d]))',
        api_traffic.DAY_START + 86400,
    )
    assert figure.extras["total"] == pytest.approx(oracle)


def test_m1_has_no_data_for_a_day_prometheus_has_nothing_of(traffic_prometheus, settings):
    settings.PROMETHEUS_URL = traffic_prometheus.url
    outcome = metric_compute("M1", period_containing("day", DAY).previous().previous(), AFTER)
    assert outcome.status == "no_data" and outcome.figures[0].value is None
