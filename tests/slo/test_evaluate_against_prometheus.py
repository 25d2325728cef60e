"""Every figure of `slo_evaluate --json` equals the same quantity computed by PromQL on the
session's Prometheus, over the synthetic workload (outage, counter reset, scrape gap, slow burn,
zero traffic, a metric that does not exist), at moments chosen to cross each of them."""

import io
import json
import math
from datetime import UTC, datetime

import pytest
from django.core.management import call_command

from slo.models import SLO
from tests.slo import oracle, workload

pytestmark = [pytest.mark.prometheus, pytest.mark.django_db]

MOMENTS = {
    "end of the workload": workload.END,
    "ten minutes into the outage": workload.OUTAGE[0] + 600,
    "inside the scrape gap": workload.GAP[0] + 2400,
    "just after the counter reset": workload.RESET_AT + 120,
    "in the coarse history, off the minute": workload.END - 10 * workload.DAY + 17.5,
}


def evaluate(at: float, *names: str) -> list[dict]:
    out = io.StringIO()
    moment = datetime.fromtimestamp(at, UTC).isoformat().replace("+00:00", "Z")
    args = ["--json", "--at", moment] + [arg for name in names for arg in ("--slo", name)]
    call_command("slo_evaluate", *args, stdout=out)
    return json.loads(out.getvalue())


def same(actual, wanted, where: str) -> None:
    if wanted is None or actual is None:
        assert actual == wanted, where
    else:
        assert math.isclose(actual, wanted, rel_tol=1e-9, abs_tol=1e-12), (where, actual, wanted)


@pytest.fixture
def evaluated(settings, prometheus, workload_slos):
    settings.PROMETHEUS_URL = prometheus.url
    return evaluate


@pytest.mark.parametrize("moment", list(MOMENTS), ids=list(MOMENTS))
def test_every_figure_equals_promql(evaluated, prometheus, moment):
    at = MOMENTS[moment]
    results = evaluated(at)
    assert [r["name"] for r in results] == sorted(SLO.objects.values_list("name", flat=True))
    for result in results:
        slo = SLO.objects.get(name=result["name"])
        wanted = oracle.expected(prometheus, slo, at)
        where = f"{slo.name} at {moment}"
        assert result["data_status"] == wanted["data_status"], where
        assert result["service"] == wanted["service"] and result["objective"] == slo.objective
        for key in ("sli", "error_budget_remaining"):
            same(result[key], wanted[key], f"{where}: {key}")
        assert list(result["burn_rates"]) == list(oracle.WINDOWS)
        for window, burn in wanted["burn_rates"].items():
            same(result["burn_rates"][window], burn, f"{where}: burn {window}")
        assert result["alerts"] == wanted["alerts"], where


def test_the_json_has_exactly_the_contracts_keys(evaluated):
    (result,) = evaluated(workload.END, "checkout-availability")
    assert list(result) == [
        "name",
        "service",
        "objective",
        "window",
        "sli",
        "error_budget_remaining",
        "burn_rates",
        "alerts",
        "data_status",
        "evaluation",
    ]
    assert result["window"] == "30d" and result["objective"] == 0.999
    assert result["evaluation"] == "exact"  # counters SSOps counts itself


def test_the_outage_pages_through_both_page_window_pairs(evaluated):
    (result,) = evaluated(MOMENTS["ten minutes into the outage"], "checkout-availability")
    assert [(a["severity"], a["long_window"], a["short_window"]) for a in result["alerts"]] == [
        ("page", "1h", "5m"),
        ("page", "6h", "30m"),
    ]
    assert [a["burn_rate_threshold"] for a in result["alerts"]] == [14.4, 6.0]


def test_the_slow_burn_raises_tickets_and_no_page(evaluated):
    (result,) = evaluated(workload.END, "search-availability")
    assert {a["severity"] for a in result["alerts"]} == {"ticket"}
    assert result["burn_rates"]["1d"] > 3 and result["burn_rates"]["3d"] > 1


def test_a_28_day_window_scales_the_thresholds_like_sloth(evaluated):
    (result,) = evaluated(MOMENTS["ten minutes into the outage"], "checkout-instance-b")
    thresholds = {(a["long_window"]): a["burn_rate_threshold"] for a in result["alerts"]}
    assert thresholds.get("1h") == 13.44 and thresholds.get("6h") == 5.6


def test_zero_traffic_and_a_missing_metric_are_no_data_never_a_perfect_sli(evaluated):
    archive, ghost = evaluated(workload.END, "archive-availability", "ghost-availability")
    for result in (archive, ghost):
        assert result["data_status"] == "no_data"
        assert result["sli"] is None and result["error_budget_remaining"] is None
        assert set(result["burn_rates"].values()) == {None} and result["alerts"] == []


def test_an_idle_service_has_no_short_window_burn_but_keeps_its_window_sli(evaluated):
    (ledger,) = evaluated(workload.END, "ledger-availability")  # idle for the last two days
    assert ledger["data_status"] == "ok" and ledger["sli"] is not None
    assert ledger["burn_rates"]["5m"] is None and ledger["burn_rates"]["1d"] is None
    assert ledger["burn_rates"]["3d"] is not None and ledger["alerts"] == []


def test_the_scrape_gap_leaves_short_windows_without_data_and_pages_nothing(evaluated):
    (catalog,) = evaluated(MOMENTS["inside the scrape gap"], "catalog-availability")
    assert catalog["burn_rates"]["5m"] is None and catalog["burn_rates"]["30m"] is None
    assert catalog["data_status"] == "ok" and catalog["alerts"] == []
