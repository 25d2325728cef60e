"""The pure SLO maths: error budget, burn rates, alert decisions, time to exhaustion, time
slices, and counter increase exactly as Prometheus computes it."""

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from slo import maths
from tests.slo import workload

DAY = 86400
objectives = st.floats(min_value=0.5, max_value=0.99999)
ratios = st.floats(min_value=0.0, max_value=1.0)


def thresholds(days):
    return [a.burn_rate_threshold for a in maths.alert_thresholds(days * DAY)]


def test_thirty_days_give_the_workbook_factors():
    assert thresholds(30) == [14.4, 6.0, 3.0, 1.0]


def test_other_periods_scale_like_sloth():
    assert thresholds(28) == [13.44, 5.6, 2.8, 0.9333333333333333]
    assert thresholds(7) == [3.36, 1.4, 0.7, 0.23333333333333334]


@given(ratios, objectives)
def test_budget_remaining_is_one_minus_the_window_burn_rate(error_ratio, objective):
    burn = maths.burn_rate(error_ratio, objective)
    remaining = maths.budget_remaining(error_ratio, objective)
    assert math.isclose(remaining, 1 - burn, rel_tol=1e-12, abs_tol=1e-12)
    assert (remaining < 0) == (error_ratio > 1 - objective) or math.isclose(
        error_ratio, 1 - objective
    )


def test_budget_remaining_goes_negative_once_spent():
    assert maths.budget_remaining(0.002, 0.999) == pytest.approx(-1.0)
    assert maths.error_budget(0.999) == pytest.approx(0.001)


def test_no_total_or_a_zero_total_is_no_data_not_a_perfect_sli():
    assert maths.ratios(5, None, numerator_is_good=False) == (None, None)
    assert maths.ratios(0, 0, numerator_is_good=True) == (None, None)
    assert maths.burn_rate(None, 0.999) is None
    assert maths.budget_remaining(None, 0.999) is None


def test_a_missing_error_counter_next_to_a_total_counts_as_no_errors():
    assert maths.ratios(None, 100.0, numerator_is_good=False) == (1.0, 0.0)
    assert maths.ratios(None, 100.0, numerator_is_good=True) == (0.0, 1.0)


@given(st.floats(min_value=0, max_value=1e9), st.floats(min_value=1e-3, max_value=1e9))
def test_good_and_bad_ratios_add_up(part, total):
    assume(part <= total)
    sli_good, err_good = maths.ratios(part, total, numerator_is_good=True)
    sli_bad, err_bad = maths.ratios(total - part, total, numerator_is_good=False)
    assert math.isclose(sli_good, sli_bad, abs_tol=1e-9)
    assert math.isclose(sli_good + err_good, 1, abs_tol=1e-12)


def burns(**given):
    return {
        label: given.get(label.replace("m", "min").replace("h", "hr"))
        for label in maths.BURN_WINDOWS
    }


def test_a_page_needs_both_windows_above_the_threshold():
    rates = dict.fromkeys(maths.BURN_WINDOWS, 0.0)
    rates.update({"1h": 15.0, "5m": 15.0})
    assert [(a.severity, a.long_window) for a in maths.alerts_firing(rates, 30 * DAY)] == [
        ("page", "1h")
    ]
    rates["5m"] = 14.0
    assert maths.alerts_firing(rates, 30 * DAY) == []


def test_exactly_at_the_threshold_does_not_fire():
    rates = dict.fromkeys(maths.BURN_WINDOWS, 14.4)
    assert {a.long_window for a in maths.alerts_firing(rates, 30 * DAY)} == {"6h", "1d", "3d"}


@given(st.dictionaries(st.sampled_from(list(maths.BURN_WINDOWS)), st.floats(0, 1000)))
def test_a_window_without_data_never_fires(known):
    rates = {label: known.get(label) for label in maths.BURN_WINDOWS}
    for alert in maths.alerts_firing(rates, 30 * DAY):
        assert rates[alert.long_window] is not None and rates[alert.short_window] is not None


def test_time_to_exhaustion_at_the_current_burn():
    # Half the budget left, burning at 2x: a 30-day budget lasts 15 days at 1x, so 7.5 days.
    assert maths.time_to_exhaustion(0.5, 2.0, 30 * DAY) == pytest.approx(7.5 * DAY)
    assert maths.time_to_exhaustion(-0.1, 2.0, 30 * DAY) == 0.0
    assert maths.time_to_exhaustion(0.5, 0.0, 30 * DAY) is None
    assert maths.time_to_exhaustion(None, 2.0, 30 * DAY) is None


def test_timeslices_count_slices_that_met_their_target_and_skip_empty_ones():
    good = np.array([99, 90, np.nan, 0, 100])
    total = np.array([100, 100, 100, 0, np.nan])
    goodness = maths.slice_goodness(good, total, numerator_is_good=True, target=0.95)
    assert goodness.tolist()[:2] == [1.0, 0.0] and np.isnan(goodness[3:]).all()
    assert goodness[2] == 0.0  # a missing good counter next to traffic: nothing was good
    assert maths.slices_ratios(goodness) == pytest.approx((1 / 3, 2 / 3))


def test_ratio_timeslices_average_the_slices_ratios():
    goodness = maths.slice_goodness(np.array([1.0, 10.0]), np.array([10.0, 10.0]), False, None)
    assert goodness.tolist() == [0.9, 0.0]
    assert maths.slices_ratios(goodness) == pytest.approx((0.45, 0.55))
    assert maths.slices_ratios(np.array([np.nan])) == (None, None)


def test_threshold_slices_compare_each_value():
    values = np.array([0.2, 0.5, 0.7, np.nan])
    assert maths.threshold_goodness(values, "lt", 0.5)[:3].tolist() == [1.0, 0.0, 0.0]
    assert maths.threshold_goodness(values, "lte", 0.5)[:3].tolist() == [1.0, 1.0, 0.0]
    assert np.isnan(maths.threshold_goodness(values, "gt", 0.5)[3])


# -- increase() as Prometheus computes it ------------------------------------------------------


def test_fewer_than_two_samples_are_no_data():
    assert maths.extrapolated_increase([], [], 0, 60_000) is None
    assert maths.extrapolated_increase([30_000], [5.0], 0, 60_000) is None


def test_samples_on_both_edges_give_the_plain_difference():
    assert maths.extrapolated_increase([0, 60_000, 120_000], [10, 20, 40], 0, 120_000) == 30.0


def test_a_reset_adds_back_the_value_before_the_drop():
    assert maths.extrapolated_increase([0, 60_000, 120_000], [10, 50, 5], 0, 120_000) == 45.0


def test_extrapolation_stops_at_the_counters_zero():
    # From 0 to 60 s the counter went 1 → 101: at that slope it was 0 just 0.6 s before the
    # first sample, so the start is extrapolated by 0.6 s, not by the 29 s to the range's edge.
    value = maths.extrapolated_increase([30_000, 90_000], [1.0, 101.0], 0, 90_000)
    assert value == pytest.approx(100 * 60.6 / 60)


def test_a_sample_far_from_the_edge_extrapolates_half_an_interval():
    value = maths.extrapolated_increase([0, 60_000], [100.0, 160.0], -600_000, 60_000)
    assert value == pytest.approx(60 * 90 / 60)


counter_steps = st.lists(st.floats(min_value=0, max_value=1e6), min_size=2, max_size=40)


@given(counter_steps, st.integers(0, 30_000), st.integers(0, 30_000))
def test_a_counter_increase_is_never_negative(steps, before, after):
    values = np.cumsum(steps)
    stamps = np.arange(len(values)) * 15_000
    result = maths.extrapolated_increase(stamps, values, -before, stamps[-1] + after)
    assert result >= 0


@pytest.mark.prometheus
@settings(max_examples=80, deadline=None)
@given(
    at=st.floats(min_value=workload.START + 3 * DAY, max_value=workload.END + 600),
    window=st.sampled_from([60, 120, 300, 1800, 3600, 7200, 21600, DAY, 3 * DAY, 30 * DAY]),
    series=st.sampled_from(
        [
            'http_requests_total{service="checkout",instance="b",code="200"}',
            'http_requests_total{service="catalog",instance="a",code="200"}',
            'http_requests_total{service="search",instance="a",code="500"}',
            'http_requests_total{service="ledger",instance="a",code="200"}',
        ]
    ),
)
def test_increase_equals_prometheus_on_its_own_samples(prometheus, at, window, series):
    """Raw samples read back from Prometheus give, through maths.extrapolated_increase, the very
    value its increase() returns: resets, jittered scrapes, gaps and edges included."""
    at = round(at, 3)
    raw = prometheus.query(f"{series}[{window}s]", at)
    stamps = [round(float(t) * 1000) for t, _ in raw[0]["values"]] if raw else []
    values = [float(v) for _, v in raw[0]["values"]] if raw else []
    ours = maths.extrapolated_increase(
        stamps, values, round(at * 1000) - window * 1000, round(at * 1000)
    )
    theirs = prometheus.value(f"increase({series}[{window}s])", at)
    assert ours == theirs


def test_the_maths_engine_and_rules_import_no_django():
    """Pure modules stay pure: fast to test, usable outside Django (STYLE.md)."""
    import subprocess
    import sys

    code = (
        "import sys; import slo.maths, slo.engine, slo.rules, slo.promql, slo.windows;"
        "import slo.sources.prometheus, metrics.sources;"
        "import metrics.periods, metrics.stats, metrics.calculations,"
        " metrics.focus, metrics.catalogue;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
