"""Backtests over the session Prometheus's backfilled history: every page and ticket episode a
backtest lists is exactly one that Prometheus itself finds when asked for the same conditions
with query_range at a one-minute step (the PromQL is written here, from docs/architecture.md's
alert rules, not from SSOps's code), on the exact path, the promql path and per group; the
contract of `slo_backtest --json`; the budget-left curve against slo_evaluate; the comparison
with the alerts an SLO really raised; a file backtested without being kept."""

from __future__ import annotations

import io
import json
import math
from datetime import UTC, datetime
from fractions import Fraction

import pytest
import requests
from django.core.management import call_command

from audit.models import AuditEvent
from slo.models import SLO
from slo.services import slo_evaluation_record
from slo.services.backtests import slo_backtest_run
from tests.slo import workload

pytestmark = [pytest.mark.prometheus, pytest.mark.django_db]

DAY = 86400
PERIOD_30D = 30 * DAY
# (severity, long window, short window, budget percent): the SRE workbook's alert rules.
PAIRS = [("page", "1h", "5m", 2), ("page", "6h", "30m", 5), ("ticket", "1d", "2h", 10)]
PAIRS += [("ticket", "3d", "6h", 10)]
SECONDS = {"5m": 300, "30m": 1800, "1h": 3600, "2h": 7200, "6h": 21600, "1d": DAY, "3d": 3 * DAY}

PROMQL_SLOS = """
apiVersion: openslo/v1
kind: SLO
metadata:
  name: checkout-rate
  labels: {team: payments}
spec:
  service: checkout
  indicator:
    metadata: {name: checkout-rate-errors}
    spec:
      ratioMetric:
        counter: true
        bad:
          metricSource:
            type: Prometheus
            spec:
              query: >-
                sum(rate(http_requests_total{service="checkout",code=~"5.."}[{{.window}}]))
                or on() vector(0)
        total:
          metricSource:
            type: Prometheus
            spec:
              query: sum(rate(http_requests_total{service="checkout"}[{{.window}}]))
  timeWindow: [{duration: 30d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{target: 0.999}]
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: checkout-by-instance
  labels: {team: payments}
spec:
  service: checkout
  indicator:
    metadata: {name: checkout-instance-errors}
    spec:
      ratioMetric:
        counter: true
        bad:
          metricSource:
            type: Prometheus
            spec:
              query: >-
                sum by (instance)
                (rate(http_requests_total{service="checkout",code=~"5.."}[{{.window}}]))
        total:
          metricSource:
            type: Prometheus
            spec:
              query: sum by (instance) (rate(http_requests_total{service="checkout"}[{{.window}}]))
  timeWindow: [{duration: 30d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{target: 0.999}]
"""


def rfc3339(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


def threshold(percent: int, long_window: str, period: int = PERIOD_30D) -> float:
    return float(Fraction(percent, 100) * Fraction(period, SECONDS[long_window]))


def conditions(burn, period: int = PERIOD_30D) -> dict[str, str]:
    """Per severity, the PromQL that holds when the alert's condition does: `burn(window)` is
    the burn rate over a window."""
    found: dict[str, list[str]] = {}
    for severity, long, short, percent in PAIRS:
        limit = threshold(percent, long, period)
        found.setdefault(severity, []).append(
            f"({burn(long)} > {limit!r} and {burn(short)} > {limit!r})"
        )
    return {severity: " or ".join(parts) for severity, parts in found.items()}


def prometheus_episodes(prometheus, expr: str, start: float, end: float) -> list[tuple]:
    """Runs of consecutive minutes at which `expr` gives a result (per series labels), from
    query_range at a one-minute step over [start, end]."""
    minutes: dict[tuple, set[int]] = {}
    first = start
    while first <= end:
        last = min(end, first + 60 * 10_000)
        answer = requests.post(
            f"{prometheus.url}/api/v1/query_range",
            data={"query": expr, "start": first, "end": last, "step": 60},
            timeout=120,
        ).json()
        assert answer["status"] == "success", answer
        for series in answer["data"]["result"]:
            key = tuple(sorted(series["metric"].items()))
            minutes.setdefault(key, set()).update(int(float(t)) for t, _ in series["values"])
        first = last + 60
    episodes = []
    for key, found in minutes.items():
        ordered = sorted(found)
        begin = previous = ordered[0]
        for moment in ordered[1:]:
            if moment != previous + 60:
                episodes.append((dict(key), begin, previous))
                begin = moment
            previous = moment
        episodes.append((dict(key), begin, previous))
    return sorted(episodes, key=lambda e: (e[1], sorted(e[0].items())))


def backtest(name: str, days: float, at: float = workload.END) -> dict:
    out = io.StringIO()
    call_command(
        "slo_backtest", name, "--days", str(days), "--at", rfc3339(at), "--json", stdout=out
    )
    return json.loads(out.getvalue())


def seconds_of(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def listed(result: dict, severity: str, group_label: str | None = None) -> list[tuple]:
    found = [
        (
            {group_label: a["group"][group_label]} if group_label else {},
            seconds_of(a["start"]),
            seconds_of(a["end"]),
        )
        for a in result["alerts"]
        if a["severity"] == severity
    ]
    return sorted(found, key=lambda e: (e[1], sorted(e[0].items())))


@pytest.fixture
def with_prometheus(settings, prometheus, workload_slos, slo_import):
    settings.PROMETHEUS_URL = prometheus.url
    slo_import(PROMQL_SLOS, name="promql.yaml")
    return prometheus


def increase_burn(selector_bad: str, selector_all: str, by: str = ""):
    grouping = f" by ({by})" if by else ""

    def burn(window: str) -> str:
        bad = f"sum{grouping}(increase({selector_bad}[{window}]))"
        total = f"sum{grouping}(increase({selector_all}[{window}]))"
        return f"(({bad}) / ({total}) / (1 - 0.999))"

    return burn


CHECKOUT = increase_burn(
    'http_requests_total{service="checkout",code=~"5.."}', 'http_requests_total{service="checkout"}'
)


def test_thirty_days_of_checkout_list_exactly_the_episodes_prometheus_finds(with_prometheus):
    """The exact path over the whole backfilled month: five-minute samples, then one a minute,
    a jittered instance, a counter reset and an outage."""
    result = backtest("checkout-availability", 30)
    start, end = seconds_of(result["from"]), seconds_of(result["to"])
    assert end == workload.END and end - start == 30 * DAY and result["step_seconds"] == 60
    for severity, expr in conditions(CHECKOUT).items():
        found = prometheus_episodes(with_prometheus, expr, start, end)
        assert found, severity  # the outage pages, and its budget burn raises a ticket
        assert listed(result, severity) == found, severity


def test_a_slow_burn_lists_its_ticket_minute_for_minute(with_prometheus):
    """search burns at about 4× for its last three days (errors vary minute to minute): a
    ticket from the minute its windows cross, and never a page."""
    burn = increase_burn(
        'http_requests_total{service="search",code=~"(5..|429)"}',
        'http_requests_total{service="search"}',
    )
    result = backtest("search-availability", 4)
    start, end = seconds_of(result["from"]), seconds_of(result["to"])
    for severity, expr in conditions(burn).items():
        assert listed(result, severity) == prometheus_episodes(with_prometheus, expr, start, end)
    assert listed(result, "ticket") and not listed(result, "page")


def test_the_promql_path_lists_the_episodes_prometheus_finds(with_prometheus):
    def burn(window: str) -> str:
        bad = f'sum(rate(http_requests_total{{service="checkout",code=~"5.."}}[{window}]))'
        total = f'sum(rate(http_requests_total{{service="checkout"}}[{window}]))'
        return f"((({bad}) or on() vector(0)) / ({total}) / (1 - 0.999))"

    assert SLO.objects.get(name="checkout-rate").evaluation == "promql"
    result = backtest("checkout-rate", 2)
    start, end = seconds_of(result["from"]), seconds_of(result["to"])
    for severity, expr in conditions(burn).items():
        found = prometheus_episodes(with_prometheus, expr, start, end)
        assert listed(result, severity) == found, severity
    assert listed(result, "page")


def test_a_grouped_slo_lists_each_groups_episodes(with_prometheus):
    burn = increase_burn(
        'http_requests_total{service="checkout",code=~"5.."}',
        'http_requests_total{service="checkout"}',
        by="instance",
    )
    slo = SLO.objects.get(name="checkout-by-instance")
    assert slo.group_by == ["instance"] and slo.evaluation == "exact"
    result = backtest("checkout-by-instance", 3)
    start, end = seconds_of(result["from"]), seconds_of(result["to"])
    for severity, expr in conditions(burn).items():
        found = prometheus_episodes(with_prometheus, expr, start, end)
        assert listed(result, severity, "instance") == found, severity
    assert {a["group"]["instance"] for a in result["alerts"] if a["severity"] == "page"} == {
        "a",
        "b",
    }


def test_the_json_is_the_contract_and_its_budget_ends_where_slo_evaluate_stands(
    with_prometheus,
):
    result = backtest("checkout-availability", 3)
    assert list(result) == ["slo", "from", "to", "step_seconds", "alerts", "budget_left"]
    assert result["slo"] == "checkout-availability"
    lowest = {"page": 6.0, "ticket": 1.0}  # the lower threshold of each severity
    for alert in result["alerts"]:
        assert list(alert) == ["severity", "start", "end", "peak_burn"]
        assert alert["start"].endswith("Z") and alert["peak_burn"] > lowest[alert["severity"]]
    points = result["budget_left"]
    assert all(len(point) == 2 for point in points) and len(points) == 3 * 24 + 1
    assert seconds_of(points[-1][0]) == workload.END
    out = io.StringIO()
    call_command("slo_evaluate", "--json", "--at", rfc3339(workload.END), "--slo",
                 "checkout-availability", stdout=out)  # fmt: skip
    (now,) = json.loads(out.getvalue())
    assert math.isclose(points[-1][1], now["error_budget_remaining"], rel_tol=1e-9)
    page = next(a for a in result["alerts"] if a["severity"] == "page")
    # The outage's page: from when both windows of a pair crossed until the 6h/30m pair let go.
    assert workload.OUTAGE[0] < seconds_of(page["start"]) < workload.OUTAGE[1]
    assert seconds_of(page["end"]) <= workload.OUTAGE[1] + 1800


def test_a_saved_slo_is_compared_with_the_alerts_it_really_raised(with_prometheus):
    slo = SLO.objects.get(name="checkout-availability")
    before, during, after = (workload.OUTAGE[0] - 600, workload.OUTAGE[0] + 600, workload.END)
    for moment in (before, during, after):
        slo_evaluation_record(at=datetime.fromtimestamp(moment, UTC), slo_ids=[slo.pk])
    report = slo_backtest_run(slo=slo, days=1, at=datetime.fromtimestamp(workload.END, UTC))
    # The evaluation ten minutes into the outage fired a page and a ticket, the last resolved
    # them; the backtest finds both, and says they really fired.
    assert sorted(severity for severity, *_ in report.real_alerts) == ["page", "ticket"]
    assert {item["severity"]: item["really_fired"] for item in report.compared} == {
        "page": True,
        "ticket": True,
    }
    page = next(item for item in report.compared if item["severity"] == "page")
    assert 0 < page["budget_spent"] < 1  # the outage spent part of the 30-day budget


def test_a_file_is_backtested_without_being_kept(with_prometheus, tmp_path):
    path = tmp_path / "draft.yaml"
    path.write_text(PROMQL_SLOS.split("---")[0].replace("checkout-rate", "draft-checkout"))
    slos, events = SLO.objects.count(), AuditEvent.objects.count()
    out = io.StringIO()
    call_command(
        "slo_backtest", str(path), "--days", "1", "--at", rfc3339(workload.END), "--json",
        stdout=out,
    )  # fmt: skip
    result = json.loads(out.getvalue())
    assert result["slo"] == "draft-checkout" and listed(result, "page")
    assert SLO.objects.count() == slos and AuditEvent.objects.count() == events


def test_bad_arguments_are_refused_with_the_reason(with_prometheus):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="1 to 90 days"):
        backtest("checkout-availability", 400)
    with pytest.raises(CommandError, match="no SLO named nope"):
        backtest("nope", 1)
