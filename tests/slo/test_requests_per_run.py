"""What an evaluation asks of Prometheus: one request per metric on the exact path and one per
distinct expression on the promql path, each for all its windows at once, however many SLOs
share them. Counted by the real Prometheus itself (its own request counter)."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import pytest
import requests
from django.core.management import call_command

from slo.models import SLO
from tests.slo import workload

pytestmark = [pytest.mark.prometheus, pytest.mark.django_db]
METRIC = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\{")


def answered(prometheus) -> float:
    text = requests.get(f"{prometheus.url}/metrics", timeout=10).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("prometheus_http_requests_total{") and "/api/v1/query" in line
    )


def evaluate(names: list[str]) -> None:
    moment = datetime.fromtimestamp(workload.END - 600, UTC).isoformat()
    args = ["--json", "--at", moment] + [arg for name in names for arg in ("--slo", name)]
    call_command("slo_evaluate", *args, stdout=io.StringIO())


def test_one_request_per_metric_and_per_expression_for_all_windows(
    settings, prometheus, shape_slos, workload_slos
):
    settings.PROMETHEUS_URL = prometheus.url
    slos = SLO.objects.filter(parent=None, budgeting_method="Occurrences")
    exact, promql = slos.filter(evaluation="exact"), slos.filter(evaluation="promql")
    metrics = {
        name
        for row in exact.values_list("numerator_query", "total_query")
        for text in row
        for name in METRIC.findall(text)
    }
    expressions = {
        text
        for row in promql.values_list("numerator_query", "total_query", "ratio_query")
        for text in row
        if text
    }
    assert len(metrics) >= 3 and len(expressions) >= 5 and slos.count() > len(metrics)
    names = list(slos.values_list("name", flat=True))
    before = answered(prometheus)
    evaluate(names)
    assert answered(prometheus) - before == len(metrics) + len(expressions)
