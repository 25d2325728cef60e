"""Periods, statistics and each metric's computation from plain records, against values worked
out by hand (the pure modules: no database)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from metrics import calculations as calc
from metrics import catalogue, stats
from metrics.periods import PeriodError, period_containing, period_parse, periods_ending

T0 = datetime(2026, 1, 7, 12, 0, tzinfo=UTC)  # a Wednesday


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def figures_by_key(figures):
    return {(f.team_id, f.dimension): f for f in figures}


# --- periods -------------------------------------------------------------------------------------


def test_days_weeks_and_months_are_utc_calendar_periods():
    day, week, month = (period_containing(kind, T0) for kind in ("day", "week", "month"))
    assert (day.start, day.end, day.label) == (
        datetime(2026, 1, 7, tzinfo=UTC),
        datetime(2026, 1, 8, tzinfo=UTC),
        "2026-01-07",
    )
    assert (week.start, week.end, week.label) == (
        datetime(2026, 1, 5, tzinfo=UTC),
        datetime(2026, 1, 12, tzinfo=UTC),
        "2026-W02",
    )
    assert (month.start, month.end, month.label) == (
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2026, 2, 1, tzinfo=UTC),
        "2026-01",
    )
    assert period_containing("month", datetime(2025, 12, 31, 23, tzinfo=UTC)).end == month.start


def test_the_week_before_iso_week_one_is_last_years_week_52():
    first = period_parse("week", "2026-W01")
    assert first.start == datetime(2025, 12, 29, tzinfo=UTC)
    assert first.previous().label == "2025-W52"
    assert [p.label for p in periods_ending("month", T0, 3)] == ["2025-11", "2025-12", "2026-01"]


def test_a_period_is_read_from_its_label_or_a_date_inside_it():
    assert period_parse("month", "2026-01") == period_parse("month", "2026-01-31T23:59:00Z")
    assert period_parse("day", "2026-01-07").label == "2026-01-07"
    with pytest.raises(PeriodError, match="2026-W02"):
        period_parse("week", "week two")
    with pytest.raises(PeriodError, match="day, week or month"):
        period_containing("year", T0)


# --- statistics ----------------------------------------------------------------------------------


def test_percentiles_interpolate_linearly_between_ranks():
    assert stats.percentile([4, 1, 3, 2], 0.95) == pytest.approx(3.85)  # h = 2.85
    assert stats.median([4, 1, 3, 2]) == 2.5
    assert stats.percentile([7], 0.95) == 7
    assert stats.percentile([], 0.5) is None
    assert stats.ratio(1, 0) is None and stats.mean([]) is None


def test_nps_counts_fives_as_promoters_and_one_to_three_as_detractors():
    assert stats.nps([5, 5, 4, 3, 1]) == {
        "nps": 0.0,
        "promoters": 2,
        "passives": 1,
        "detractors": 2,
        "responses": 5,
    }
    assert stats.nps([5, 5, 5, 4])["nps"] == 75.0
    assert stats.nps([])["nps"] is None


# --- the metrics ---------------------------------------------------------------------------------


def test_m1_is_successful_over_all_api_requests():
    (figure,) = calc.api_success(998, 1000)
    assert figure.value == 0.998 and figure.extras["failed"] == 2
    (nothing,) = calc.api_success(None, None)
    assert nothing.value is None


def test_m2_p95_and_median_per_template_leave_out_the_approval_wait():
    provisions = [
        calc.Provision(1, "db", at(0), at(30)),
        calc.Provision(1, "db", at(0), at(60)),
        calc.Provision(1, "db", at(0), at(1000), approval_wait=910),  # 90 s without the wait
        calc.Provision(1, "db", at(0), at(600)),
        calc.Provision(2, "ns", at(0), at(45)),
    ]
    got = figures_by_key(calc.provisioning_latency(provisions))
    db = got[1, "db"]
    assert db.value == pytest.approx(90 + 0.85 * 510)  # 523.5: sorted 30 60 90 600, h = 2.85
    assert db.extras["median"] == 75 and db.extras["count"] == 4
    assert db.extras["p95_with_approval_wait"] == pytest.approx(600 + 0.85 * 400)  # 940
    assert db.extras["median_with_approval_wait"] == 330
    assert got[2, "ns"].value == 45 and got[2, ""].value == 45
    overall = got[None, ""]
    assert overall.value == pytest.approx(90 + 0.8 * 510)  # 498: 30 45 60 90 600, h = 3.8
    assert overall.extras["median"] == 60
    assert got[None, "db"].value == db.value


def test_m3_uptime_counts_probed_minutes_only():
    (figure,) = calc.catalog_uptime([True] * 9 + [False], minutes_elapsed=20)
    assert figure.value == 0.9
    assert figure.extras == {
        "probed_minutes": 10,
        "successful_minutes": 9,
        "failed_minutes": 1,
        "minutes": 20,
        "coverage": 0.5,
    }
    assert calc.catalog_uptime([], 20)[0].value is None  # no probe: no data, not 100 %


def test_m4_mean_and_p95_pending_time_by_risk_tier():
    stages = [
        calc.ApprovalStage(1, "low", 0, "approved"),
        calc.ApprovalStage(1, "low", 0, "approved"),
        calc.ApprovalStage(2, "low", 1200, "approved"),
        calc.ApprovalStage(1, "medium", 3600, "rejected"),
        calc.ApprovalStage(1, "medium", 600, "approved"),
    ]
    got = figures_by_key(calc.approval_turnaround(stages))
    low = got[None, "low"]
    assert low.value == 400 and low.extras["p95"] == pytest.approx(1080)  # h = 1.9
    assert low.extras["waited"] == 1
    medium = got[None, "medium"]
    assert medium.value == 2100 and medium.extras["p95"] == pytest.approx(3450)
    assert medium.extras["outcomes"] == {"approved": 1, "rejected": 1}
    assert got[1, "low"].value == 0 and got[2, ""].value == 1200


def test_m5_deny_rate_per_policy_keeps_dry_run_apart():
    decisions = [
        calc.Decision(1, "a", "enforce", "allow"),
        calc.Decision(1, "a", "enforce", "deny"),
        calc.Decision(2, "a", "enforce", "deny"),
        calc.Decision(2, "a", "enforce", "error"),
        calc.Decision(1, "b", "warn", "allow"),
        calc.Decision(None, "b", "warn", "deny"),
        calc.Decision(1, "a", "dry_run", "deny"),
        calc.Decision(1, "a", "dry_run", "allow"),
        calc.Decision(1, "a", "dry_run", "allow"),
    ]
    got = figures_by_key(calc.policy_deny_rate(decisions))
    assert got[None, "a"].value == 0.5 and got[None, "a"].extras["errors"] == 1
    assert got[None, "b"].value == 0.5
    assert got[None, ""].value == 0.5  # 3 denies of 6 live decisions
    assert got[None, "a (dry run)"].value == pytest.approx(1 / 3)
    assert got[None, "(dry run)"].extras == {"decisions": 3, "denies": 1, "errors": 0}
    assert got[1, "a"].value == 0.5 and got[2, "a"].value == 0.5
    assert (None, "b") in got and (1, "b") in got and got[1, "b"].value == 0.0


def test_m6_successful_runbook_runs_over_attempts():
    runs = [
        calc.RunbookRunRecord(1, "restart", True, True),
        calc.RunbookRunRecord(1, "restart", True, False),
        calc.RunbookRunRecord(1, "restart", False, True),
        calc.RunbookRunRecord(2, "rotate", True, True),
    ]
    got = figures_by_key(calc.remediation_success(runs))
    assert got[None, "restart"].value == pytest.approx(2 / 3)
    assert got[None, ""].value == 0.75 and got[None, ""].extras["failed"] == 1


def test_m7_burn_per_slo_and_the_mean_over_slos_with_data():
    burns = [
        calc.SloBurn(1, "x", 0.5, 0.9, "ok"),
        calc.SloBurn(1, "y", 3.0, -0.2, "ok"),
        calc.SloBurn(2, "z", None, None, "no_data"),
    ]
    got = figures_by_key(calc.error_budget_burn(burns))
    assert got[None, "y"].value == 3.0 and got[None, "y"].extras["budget_remaining"] == -0.2
    overall = got[None, ""]
    assert overall.value == 1.75
    assert overall.extras == {
        "slos": 3,
        "with_data": 2,
        "over_budget_pace": 1,
        "worst": "y",
        "worst_burn": 3.0,
    }
    assert got[2, ""].value is None and got[2, "z"].extras["data_status"] == "no_data"


def test_m8_cost_per_provision_by_template_and_team():
    eur = "EUR"
    charges = [
        calc.Charge(1, "db", Decimal("6"), eur, "resource"),
        calc.Charge(1, "db", Decimal("4"), eur, "resource"),
        calc.Charge(1, "", Decimal("5"), eur, "owner tag"),
        calc.Charge(2, "ns", Decimal("7"), eur, "resource"),
        calc.Charge(None, "", Decimal("3"), eur),  # no owner: M10, not here
    ]
    provisions = [
        calc.Provision(1, "db", at(0), at(1)),
        calc.Provision(1, "db", at(0), at(1)),
        calc.Provision(1, "ns", at(0), at(1)),
        calc.Provision(2, "ns", at(0), at(1)),
    ]
    got = figures_by_key(calc.cost_per_provision(charges, provisions))
    assert got[1, "db"].value == 5.0 and got[1, "db"].extras["cost"] == "10"
    assert got[1, "ns"].value is None  # provisioned, but no cost joined to it
    assert got[1, calc.BY_TAGS].value is None and got[1, calc.BY_TAGS].extras["cost"] == "5"
    assert got[1, ""].value == 5.0  # 15 EUR / 3
    assert got[2, "ns"].value == 7.0
    assert got[None, "ns"].value == 3.5  # 7 EUR / 2
    assert got[None, ""].value == 5.5  # 22 EUR / 4: the unowned 3 EUR left out
    mixed = calc.cost_per_provision(
        [calc.Charge(1, "db", Decimal(1), "EUR"), calc.Charge(1, "db", Decimal(1), "USD")],
        [calc.Provision(1, "db", at(0), at(1))],
    )
    assert figures_by_key(mixed)[1, "db"].value is None  # two currencies are not added up


def test_m9_runbook_runs_over_all_oncall_actions():
    (figure,) = calc.oncall_via_ssops(3, 1)
    assert figure.value == 0.75 and figure.extras["actions"] == 4


def test_m10_counts_distinct_orphaned_resources_and_their_cost():
    orphans = [
        calc.Orphan(None, calc.NO_OWNER, "r1", Decimal("3"), "EUR"),
        calc.Orphan(None, calc.NO_OWNER, "r1", Decimal("2"), "EUR"),
        calc.Orphan(None, calc.NO_OWNER, "r2", Decimal("4"), "EUR"),
        calc.Orphan(1, calc.ORPHAN_SCAN, "res-x"),
    ]
    got = figures_by_key(calc.orphaned_resources(orphans))
    assert got[None, calc.NO_OWNER].value == 2
    assert got[None, calc.NO_OWNER].extras["costs"] == {"EUR": "9"}
    assert got[1, ""].value == 1 and got[None, ""].value == 3


def test_m11_share_of_transitions_with_their_audit_event_names_the_gaps():
    checks = [calc.TransitionCheck("request", 1, str(i), True) for i in range(3)]
    checks += [calc.TransitionCheck("request", 1, "9", False, "transition #9 has no event")]
    checks += [calc.TransitionCheck("approval", 2, str(i), True) for i in range(2)]
    got = figures_by_key(calc.audit_completeness(checks))
    assert got[None, ""].value == pytest.approx(5 / 6)
    assert got[None, "request"].value == 0.75
    assert got[None, "request"].extras["gaps"] == ["transition #9 has no event"]
    assert got[2, ""].value == 1.0


def test_m12_average_and_nps_style_score():
    ratings = [calc.Rating(1, s) for s in (5, 4, 3)] + [calc.Rating(2, s) for s in (5, 5)]
    got = figures_by_key(calc.user_satisfaction(ratings))
    assert got[1, ""].value == 4 and got[1, ""].extras["nps"] == 0
    assert got[2, ""].extras["nps"] == 100
    overall = got[None, ""]
    assert overall.value == pytest.approx(4.4)
    assert overall.extras["nps"] == 40  # (3 promoters − 1 detractor) / 5


def test_every_metric_has_a_definition_a_source_and_a_scope():
    assert [m.key for m in catalogue.METRICS] == [f"M{i}" for i in range(1, 13)]
    for metric in catalogue.METRICS:
        assert metric.definition and metric.source and metric.scope in ("platform", "team")
    assert catalogue.metric_lookup("m2") is catalogue.metric_lookup("provisioning-latency")
    assert catalogue.BY_KEY["M2"].target.met(119) and not catalogue.BY_KEY["M2"].target.met(120)
    assert catalogue.BY_KEY["M4"].target.dimension == "low"
