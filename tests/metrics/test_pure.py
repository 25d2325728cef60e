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


def test_nps_counts_nines_and_tens_as_promoters_and_zero_to_six_as_detractors():
    # 10, 9 promote; 8, 7 are passive; 6 and 0 detract: (2 − 2) / 6 = 0.
    assert stats.nps([10, 9, 8, 7, 6, 0]) == {
        "nps": 0.0,
        "promoters": 2,
        "passives": 2,
        "detractors": 2,
        "responses": 6,
    }
    assert stats.nps([10, 10, 9, 8])["nps"] == 75.0  # (3 − 0) / 4
    assert stats.nps([6, 6, 5, 9])["nps"] == -50.0  # (1 − 3) / 4
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


def test_m4_mean_and_p95_of_the_waits_for_a_person_by_risk_tier():
    waited = [
        calc.ApprovalStage(2, "low", 1200, "approved"),
        calc.ApprovalStage(2, "low", 2400, "approved"),
        calc.ApprovalStage(1, "medium", 3600, "rejected"),
        calc.ApprovalStage(1, "medium", 600, "approved"),
    ]
    automatic = [calc.ApprovalStage(1, "low", 0, "approved", automatic=True)] * 5
    got = figures_by_key(calc.approval_turnaround(waited))
    low = got[None, "low"]
    assert low.value == 1800 and low.extras["p95"] == pytest.approx(2340)  # 1200 + 0.95 × 1200
    medium = got[None, "medium"]
    assert medium.value == 2100 and medium.extras["p95"] == pytest.approx(3450)
    assert medium.extras["outcomes"] == {"approved": 1, "rejected": 1}
    assert got[2, ""].value == 1800 and got[None, ""].value == 1950  # (1200+2400+3600+600)/4

    # Five requests approved automatically (they waited for nobody) change M4 by nothing.
    with_automatic = figures_by_key(calc.approval_turnaround(waited + automatic))
    for key, figure in got.items():
        assert with_automatic[key].value == figure.value
        assert with_automatic[key].extras["p95"] == figure.extras["p95"]
    assert with_automatic[None, "low"].extras["approved_automatically"] == 5
    assert with_automatic[None, "low"].extras["count"] == 2
    only_automatic = with_automatic[1, "low"]  # payments' low-risk requests: all automatic
    assert only_automatic.value is None and only_automatic.extras["approved_automatically"] == 5


def test_m5_four_policies_denying_one_request_make_one_deny():
    policies = ("budget", "naming", "prod", "quota")
    decisions = [calc.Decision(1, p, "enforce", "deny", "r1") for p in policies]
    decisions += [
        calc.Decision(1, p, "enforce", "allow", r) for p in policies for r in ("r2", "r3")
    ]
    decisions += [calc.Decision(1, p, "enforce", "allow", "r4") for p in policies]
    got = figures_by_key(calc.policy_deny_rate(decisions))
    overall = got[None, ""]
    assert overall.value == 0.25  # one request of four, not four decisions of sixteen
    assert (overall.extras["requests"], overall.extras["denied"]) == (4, 1)
    assert (overall.extras["decisions"], overall.extras["denies"]) == (16, 4)
    assert got[None, "budget"].value == 0.25  # the per-policy breakdown stays: 1 of its 4


def test_m5_per_request_counts_enforcing_denies_and_errors_keeps_warn_and_dry_run_apart():
    decisions = [
        calc.Decision(1, "a", "enforce", "allow", "r1"),
        calc.Decision(1, "b", "warn", "deny", "r1"),  # warns only: r1 goes through
        calc.Decision(1, "a", "enforce", "deny", "r2"),
        calc.Decision(1, "b", "warn", "allow", "r2"),
        calc.Decision(2, "a", "enforce", "error", "r3"),  # fails closed: r3 is denied
        calc.Decision(2, "b", "warn", "allow", "r3"),
        calc.Decision(2, "a", "enforce", "allow", "r4"),
        calc.Decision(2, "b", "warn", "allow", "r4"),
        calc.Decision(1, "c", "dry_run", "deny", "r1"),
        calc.Decision(1, "c", "dry_run", "allow", "r2"),
        calc.Decision(2, "c", "dry_run", "allow", "r3"),
    ]
    got = figures_by_key(calc.policy_deny_rate(decisions))
    assert got[None, ""].value == 0.5  # r2 and r3 of four requests
    assert got[1, ""].value == 0.5 and got[2, ""].value == 0.5
    assert got[None, "a"].value == 0.25 and got[None, "a"].extras["errors"] == 1
    assert got[None, "b"].value == 0.25  # would have denied r1, had it enforced
    assert got[None, "c (dry run)"].value == pytest.approx(1 / 3)
    assert got[None, "(dry run)"].extras == {"decisions": 3, "denies": 1, "errors": 0}
    assert (1, "b") in got and got[2, "b"].value == 0.0


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


def test_m9_trend_rule_is_met_at_or_above_the_mean_of_the_four_periods_before():
    m9 = catalogue.BY_KEY["M9"]
    earlier = [0.4, None, 0.5, 0.6, 0.7]  # the four before with a value: 0.4 0.5 0.6 0.7
    assert m9.verdict(0.55, earlier) is True  # their mean is 0.55
    assert m9.verdict(0.54, earlier) is False
    assert m9.verdict(0.9, []) is None  # nothing to compare with: no verdict
    assert m9.verdict(None, earlier) is None
    assert m9.verdict(0.6, [0.1, 0.2, 0.5, 0.5, 0.5, 0.5]) is True  # only the last four count


def test_m10_counts_distinct_aged_resources_with_their_age_and_cost():
    day = calc.DAY_SECONDS
    orphans = [
        calc.Orphan(None, calc.NO_OWNER, "r1", Decimal("3"), "EUR", 10 * day),
        calc.Orphan(None, calc.NO_OWNER, "r1", Decimal("2"), "EUR", 10 * day),  # two bills
        calc.Orphan(None, calc.NO_OWNER, "r2", Decimal("4"), "EUR", 8 * day),
        calc.Orphan(1, calc.ORPHAN_SCAN, "res-x", age_seconds=30 * day),
        calc.Orphan(1, calc.PAST_EXPIRY, "ns-1", age_seconds=0.5 * day),
    ]
    got = figures_by_key(calc.orphaned_resources(orphans))
    no_owner = got[None, calc.NO_OWNER]
    assert no_owner.value == 2 and no_owner.extras["costs"] == {"EUR": "9"}
    assert (no_owner.extras["oldest_days"], no_owner.extras["median_age_days"]) == (10, 9)
    assert got[1, ""].value == 2 and got[1, calc.PAST_EXPIRY].extras["oldest_days"] == 0.5
    overall = got[None, ""]
    assert overall.value == 4 and overall.extras["oldest_days"] == 30
    assert overall.extras["median_age_days"] == 9  # 0.5 8 10 30
    assert not catalogue.BY_KEY["M10"].verdict(overall.value)
    assert catalogue.BY_KEY["M10"].verdict(0.0)


def test_m11_share_of_transitions_with_their_audit_event_names_the_gaps():
    checks = [calc.TransitionCheck("request", 1, str(i), True) for i in range(3)]
    checks += [calc.TransitionCheck("request", 1, "9", False, "transition #9 has no event")]
    checks += [calc.TransitionCheck("approval", 2, str(i), True) for i in range(2)]
    got = figures_by_key(calc.audit_completeness(checks))
    assert got[None, ""].value == pytest.approx(5 / 6)
    assert got[None, "request"].value == 0.75
    assert got[None, "request"].extras["gaps"] == ["transition #9 has no event"]
    assert got[2, ""].value == 1.0


def test_m12_is_the_nps_of_the_survey_answers_beside_the_request_ratings():
    answers = [
        calc.SurveyAnswer((1,), 10),
        calc.SurveyAnswer((1,), 9),
        calc.SurveyAnswer((1, 2), 7),  # in both teams: counts for each, once overall
        calc.SurveyAnswer((2,), 3),
        calc.SurveyAnswer((), 10),  # in no team: overall only
    ]
    ratings = [calc.Rating(1, s) for s in (5, 4, 3)] + [calc.Rating(2, 5)]
    got = figures_by_key(calc.user_satisfaction(answers, ratings))
    overall = got[None, ""]
    assert overall.value == 40  # (3 promoters − 1 detractor) / 5 answers
    assert (overall.extras["promoters"], overall.extras["passives"]) == (3, 1)
    assert overall.extras["rating_average"] == 4.25 and overall.extras["ratings"] == 4
    assert got[1, ""].value == pytest.approx(200 / 3)  # 10 9 7: (2 − 0) / 3
    assert got[2, ""].value == -50  # 7 3: (0 − 1) / 2
    assert got[2, ""].extras["rating_average"] == 5
    rated_only = figures_by_key(calc.user_satisfaction([], ratings))[None, ""]
    assert rated_only.value is None and rated_only.extras["rating_average"] == 4.25


def test_every_metric_has_a_definition_a_source_and_a_scope():
    assert [m.key for m in catalogue.METRICS] == [f"M{i}" for i in range(1, 13)]
    for metric in catalogue.METRICS:
        assert metric.definition and metric.source and metric.scope in ("platform", "team")
    assert catalogue.metric_lookup("m2") is catalogue.metric_lookup("provisioning-latency")
    assert catalogue.BY_KEY["M2"].target.met(119) and not catalogue.BY_KEY["M2"].target.met(120)
    assert catalogue.BY_KEY["M4"].target.dimension == "low"
    for metric in catalogue.METRICS:
        assert metric.formula and (metric.version == 1 or metric.changed)
    # Every metric the guide gives a target or a trend has one.
    assert {m.key for m in catalogue.METRICS if m.target is None} == {"M8"}
