"""What an evaluation asks of Prometheus: on the exact path one question per metric, on the
promql path one per distinct expression, however many SLOs share them, each question one query
per window; whole questions go to a request until it holds PARTS_PER_REQUEST queries. A window
that maintenance cuts is asked as its pieces, each at its own end: one request per end, not per
piece. Requests counted by the real Prometheus itself (its own request counter)."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
import requests
from django.core.management import call_command

from slo.models import SLO
from slo.services import adjustment_create
from slo.sources import prometheus as prometheus_source
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


def evaluate(names: list[str]) -> list[dict]:
    moment = datetime.fromtimestamp(workload.END - 600, UTC).isoformat()
    args = ["--json", "--at", moment] + [arg for name in names for arg in ("--slo", name)]
    out = io.StringIO()
    call_command("slo_evaluate", *args, stdout=out)
    return json.loads(out.getvalue())


@pytest.mark.parametrize("per_request", [1, 10_000])
def test_every_metric_and_expression_is_one_question_many_to_a_request(
    settings, prometheus, shape_slos, workload_slos, monkeypatch, per_request
):
    settings.PROMETHEUS_URL = prometheus.url
    monkeypatch.setattr(prometheus_source, "PARTS_PER_REQUEST", per_request)
    slos = SLO.objects.filter(parent=None, budgeting_method="Occurrences")
    questions: dict[str, set[str]] = {"exact": set(), "promql": set()}
    for slo in slos:
        if slo.evaluation == "exact":
            texts = METRIC.findall(slo.numerator_query + slo.total_query)
        else:
            texts = [t for t in (slo.numerator_query, slo.total_query, slo.ratio_query) if t]
        questions[slo.evaluation].update(texts)
    assert len(questions["exact"]) >= 3 and len(questions["promql"]) >= 5
    before = answered(prometheus)
    evaluate(list(slos.values_list("name", flat=True)))
    # Each path asks its own questions: one request each, or all in one.
    expected = sum(len(asked) if per_request == 1 else 1 for asked in questions.values())
    assert answered(prometheus) - before == expected


BROKEN_AND_FINE = """
version: prometheus/v1
service: checkout
labels: {owner: payments}
slos:
  # Parses, but Prometheus refuses it once it has data: several series on the right of on().
  - name: broken
    objective: 99
    sli:
      events:
        error_query: >-
          sum(rate(http_requests_total{service="checkout",code="500"}[{{.window}}]))
          / on() rate(http_requests_total{service="checkout"}[{{.window}}])
        total_query: sum(rate(http_requests_total{service="checkout"}[{{.window}}]))
  - name: fine
    objective: 99
    sli:
      events:
        error_query: >-
          sum(rate(http_requests_total{service="checkout",code="500"}[{{.window}}]))
          or on() vector(0)
        total_query: sum(rate(http_requests_total{service="checkout"}[{{.window}}]))
"""


def test_an_expression_prometheus_refuses_fails_alone(settings, prometheus, slo_import, team):
    """Both SLOs' queries go in one request, which Prometheus refuses; asked again one by one,
    only the broken expression fails."""
    settings.PROMETHEUS_URL = prometheus.url
    slo_import(BROKEN_AND_FINE, team="payments", name="sloth.yaml")
    out = io.StringIO()
    moment = datetime.fromtimestamp(workload.END - 600, UTC).isoformat()
    args = ["--at", moment, "--slo", "checkout-broken", "--slo", "checkout-fine"]
    call_command("slo_evaluate", *args, stdout=out)
    lines = {line.split()[0]: line for line in out.getvalue().splitlines()}
    assert "unavailable" in lines["checkout-broken"] and "refused" in lines["checkout-broken"]
    assert " ok " in lines["checkout-fine"]


DAY = 86400


def test_pieces_of_windows_are_asked_together_by_their_end(
    settings, prometheus, workload_slos, slo_import, platform_admin, monkeypatch
):
    """Two exact-path SLOs of one metric, each with a maintenance window of its own inside its
    SLO window (their burn windows untouched), and a promql-path SLO with the first one: the
    exact path asks its metric at three moments (now and where each maintenance window
    begins), the promql path its expressions at two, one request each; asked query by query,
    every figure is the same."""
    settings.PROMETHEUS_URL = prometheus.url
    slo_import(BROKEN_AND_FINE, team="payments", name="fine.yaml")
    cuts = {
        "checkout-availability": workload.END - 5 * DAY,  # a 30-day window
        "catalog-availability": workload.END - 6 * DAY,  # a 7-day window
        # Prometheus evaluates it (`or on() vector(0)` is no sum of counters); its events add
        # up over pieces of a window, so maintenance is cut out of its SLO window.
        "checkout-fine": workload.END - 5 * DAY,
    }
    for name, start in cuts.items():
        slo = SLO.objects.get(name=name)
        adjustment_create(
            actor=platform_admin,
            service=slo.service,
            slo=slo,
            name=f"{name}-drill",
            first_start=datetime.fromtimestamp(start, UTC),
            duration=timedelta(days=1),
            reason="the failover drill",
        )
    names = list(cuts)
    monkeypatch.setattr(prometheus_source, "PARTS_PER_REQUEST", 10_000)
    before = answered(prometheus)
    batched = evaluate(names)
    assert answered(prometheus) - before == 3 + 2
    assert {r["name"]: r["evaluation"] for r in batched}["checkout-fine"] == "promql"
    assert all(result["data_status"] == "ok" for result in batched)
    monkeypatch.setattr(prometheus_source, "PARTS_PER_REQUEST", 1)
    assert evaluate(names) == batched
