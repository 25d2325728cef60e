"""Each metric computed from fixture records in the database and stored per period, against values
worked out by hand (see the scenario fixture for the requests' timelines)."""

import pytest

from catalog.services import policy_save, request_submit
from core.models import ApiRequestCount
from metrics import calculations as calc
from metrics.compute import metric_compute
from metrics.models import MetricSnapshot, ProbeResult
from metrics.periods import period_containing
from metrics.services import (
    metric_snapshots_record,
    rating_submit,
    ssops_slos_import,
    survey_answer,
    survey_dismiss,
)
from tests.metrics.conftest import AFTER, DAY, moment

pytestmark = pytest.mark.django_db

PERIOD = period_containing("day", DAY)


def figures(key: str, period=PERIOD, now=AFTER):
    outcome = metric_compute(key, period, now)
    return outcome, {(f.team_id, f.dimension): f for f in outcome.figures}


def test_m2_provisioning_latency_from_request_timelines(scenario, team, other_team):
    outcome, got = figures("M2")
    assert outcome.status == "ok"
    widget = got[team.pk, "widget"]
    assert widget.value == pytest.approx(30 + 0.95 * 60)  # R1 30 s, R2 90 s: p95 87 s
    assert widget.extras["median"] == 60 and widget.extras["count"] == 2
    gadget = got[team.pk, "gadget"]
    assert gadget.value == 60  # R3 took 1,260 s, of which 1,200 s waiting for carol
    assert gadget.extras["p95_with_approval_wait"] == 1260
    assert got[other_team.pk, ""].value == 45
    overall = got[None, ""]  # 30, 45, 60, 90 (R5 is the next day's)
    assert overall.value == pytest.approx(60 + 0.85 * 30)
    assert overall.extras["median"] == 52.5 and overall.extras["count"] == 4


def test_m4_approval_turnaround_by_risk_tier(scenario, team, file_request):
    _, got = figures("M4")
    low = got[None, "low"]  # R1, R2, R4 approved at once: nobody waited
    assert (low.value, low.extras["count"], low.extras["approved_automatically"]) == (None, 0, 3)
    medium = got[None, "medium"]  # R3 waited 1,200 s (approved), R6 2,400 s (rejected)
    assert medium.value == 1800
    assert medium.extras["p95"] == pytest.approx(1200 + 0.95 * 1200)
    assert medium.extras["outcomes"] == {"approved": 1, "rejected": 1}
    assert got[team.pk, "medium"].value == 1800
    assert got[None, ""].value == 1800  # over everyone who waited for a person

    # Ten more requests approved automatically that day change M4 by nothing.
    for n in range(10):
        file_request("widget", at=moment(5, minutes=n), ready_after=30)
    _, again = figures("M4")
    assert {k: f.value for k, f in again.items()} == {k: f.value for k, f in got.items()}
    assert again[None, "low"].extras["approved_automatically"] == 13


def test_m5_deny_rate_per_policy_from_stored_decisions(db, widget, bob, team):
    policy_save(
        actor=None,
        slug="no-bad-names",
        title="No bad names",
        source='package t.bad\n\nimport rego.v1\n\ndeny contains "bad name" if '
        'startswith(input.request.parameters.name, "bad")\n',
    )
    policy_save(
        actor=None,
        slug="prefix",
        title="Prefix",
        mode="dry_run",
        source='package t.prefix\n\nimport rego.v1\n\ndeny contains "no prefix" if '
        'not startswith(input.request.parameters.name, "payments-")\n',
    )
    for name in ("payments-a", "bad-x", "payments-b", "other"):
        request_submit(actor=bob, template="widget", team=team, parameters={"name": name})
    from catalog.models import PolicyDecision

    PolicyDecision.objects.update(created_at=moment(5))
    _, got = figures("M5")
    assert got[None, "no-bad-names"].value == 0.25  # bad-x of four
    assert got[None, "prefix (dry run)"].value == 0.5  # bad-x and other, dry run only
    assert got[None, ""].value == 0.25
    assert got[None, ""].extras == {
        "requests": 4,
        "denied": 1,
        "decisions": 4,
        "denies": 1,
        "errors": 0,
    }
    assert got[team.pk, "(dry run)"].value == 0.5


def test_m5_four_policies_denying_one_request_make_one_deny(db, widget, bob, team):
    for name in ("one", "two", "three", "four"):
        policy_save(
            actor=None,
            slug=f"no-bad-{name}",
            title=name,
            source=f'package t.{name}\n\nimport rego.v1\n\ndeny contains "bad name ({name})" '
            'if startswith(input.request.parameters.name, "bad")\n',
        )
    denied = request_submit(actor=bob, template="widget", team=team, parameters={"name": "bad-x"})
    assert denied.state == "denied" and len(denied.deny_reasons) == 4
    for name in ("payments-a", "payments-b", "payments-c"):
        request_submit(actor=bob, template="widget", team=team, parameters={"name": name})
    from catalog.models import PolicyDecision

    PolicyDecision.objects.update(created_at=moment(5))
    _, got = figures("M5")
    overall = got[None, ""]
    assert overall.value == 0.25  # one request of four: not four denies of sixteen decisions
    assert (overall.extras["requests"], overall.extras["denied"]) == (4, 1)
    assert (overall.extras["decisions"], overall.extras["denies"]) == (16, 4)
    assert got[None, "no-bad-one"].value == 0.25


def test_m12_is_the_nps_of_the_survey_beside_the_ratings(scenario, bob, charlie, alice, carol):
    rating_submit(actor=bob, request=scenario["R1"], score=5)
    rating_submit(actor=bob, request=scenario["R3"], score=4, comment="slow approval")
    rating_submit(actor=bob, request=scenario["R6"], score=2)
    rating_submit(actor=charlie, request=scenario["R4"], score=5)
    from metrics.models import SatisfactionRating

    SatisfactionRating.objects.update(created_at=moment(12))
    # payments: bob 10, alice 9, carol 6; search: charlie 8; one dismissal (no answer)
    for user, score in ((bob, 10), (alice, 9), (carol, 6), (charlie, 8)):
        survey_answer(actor=user, score=score, now=moment(9))
    from tests.factories import UserFactory

    survey_dismiss(actor=UserFactory(username="dora"), now=moment(9))
    _, got = figures("M12")
    overall = got[None, ""]
    assert overall.value == 25  # (2 promoters − 1 detractor) / 4 answers
    assert overall.extras["responses"] == 4 and overall.extras["passives"] == 1
    assert overall.extras["rating_average"] == 4  # 5, 4, 2, 5
    payments = got[scenario["R1"].team_id, ""]
    assert payments.value == pytest.approx(100 / 3)  # (2 − 1) / 3
    assert payments.extras["rating_average"] == pytest.approx(11 / 3)
    assert got[charlie.teams.get().pk, ""].value == 0  # one passive


def test_m3_uptime_from_probe_results():
    ProbeResult.objects.bulk_create(
        [ProbeResult(at=moment(minutes=m), ok=m != 7) for m in range(40)]
        + [ProbeResult(at=moment(24, minutes=1), ok=False)]  # the next day
    )
    outcome, got = figures("M3")
    overall = got[None, ""]
    assert overall.value == pytest.approx(39 / 40)
    assert overall.extras["minutes"] == 1440 and overall.extras["probed_minutes"] == 40


def api_counts(minute, *, ok: int, errors: int, view="api:request-list"):
    start = int(minute.timestamp())
    return [
        ApiRequestCount(minute=start, view=view, method="GET", status="200", count=ok),
        ApiRequestCount(minute=start, view=view, method="POST", status="503", count=errors),
    ]


def test_m1_without_prometheus_counts_the_api_requests_ssops_recorded(settings):
    settings.PROMETHEUS_URL = None
    ApiRequestCount.objects.bulk_create(
        api_counts(moment(0), ok=500, errors=1)
        + api_counts(moment(23, minutes=59), ok=497, errors=2)
        + api_counts(moment(24), ok=1000, errors=1000)  # the next day
        + api_counts(moment(-1), ok=1000, errors=1000)  # the day before
    )
    outcome, got = figures("M1")
    assert got[None, ""].value == pytest.approx(997 / 1000)
    assert got[None, ""].extras == {"successful": 997, "total": 1000, "failed": 3}
    assert "SSOps's own request counts" in outcome.detail


def test_m1_says_unavailable_when_prometheus_cannot_answer(settings):
    settings.PROMETHEUS_URL = "http://127.0.0.1:9"  # nothing listens there
    outcome = metric_compute("M1", PERIOD, AFTER)
    assert outcome.status == "unavailable" and "unreachable" in outcome.detail


def test_m7_burns_ssops_slos_over_the_period_with_the_slo_engine(scenario, settings, team):
    settings.PROMETHEUS_URL = None
    ssops_slos_import(actor=None, team=team, prometheus=False)
    ProbeResult.objects.bulk_create(
        [ProbeResult(at=moment(minutes=m), ok=m not in (3, 4)) for m in range(40)]
    )
    ApiRequestCount.objects.bulk_create(api_counts(moment(6), ok=997, errors=3))
    outcome, got = figures("M7")
    assert got[team.pk, "ssops-catalog-uptime"].value == pytest.approx(0.05 / 0.0005)  # 100×
    assert got[team.pk, "ssops-api-availability"].value == pytest.approx(0.003 / 0.001)  # 3×
    assert got[team.pk, "ssops-provisioning-latency"].value == 0  # all four within 2 min
    overall = got[None, ""]
    assert overall.value == pytest.approx((100 + 3 + 0) / 3)
    assert overall.extras["over_budget_pace"] == 2 and overall.extras["worst"] == (
        "ssops-catalog-uptime"
    )


def test_snapshots_store_each_figure_and_a_period_recomputed_replaces_them(scenario, team):
    statuses = metric_snapshots_record(period=PERIOD, now=AFTER)
    assert statuses["M2"] == "ok"
    stored = MetricSnapshot.objects.get(metric="M2", team=None, dimension="")
    assert stored.value == pytest.approx(85.5) and stored.complete
    assert stored.period_end == PERIOD.end
    count = MetricSnapshot.objects.count()
    metric_snapshots_record(period=PERIOD, now=AFTER)
    assert MetricSnapshot.objects.count() == count  # replaced, never doubled


def test_a_period_under_way_is_marked_incomplete(scenario):
    metric_snapshots_record(period=PERIOD, now=moment(12), metrics=["M2"])
    assert not MetricSnapshot.objects.get(metric="M2", team=None, dimension="").complete


def test_m8_and_m10_from_billing_rows_joined_by_tags(tmp_path, scenario, team, other_team):
    from django.core.management import call_command

    from tests.metrics.focus_files import charge, focus_csv

    rows = [
        charge(7, "12", resource="vm-1", tags={"owner": "payments"}),
        charge(7, "6", resource="db-2", tags={"cost-center": other_team.cost_center}),
        charge(1, "1", resource="lost-1"),  # billed with no owner since 1 January
        charge(7, "3", resource="lost-1", tags={"env": "dev"}),
        charge(7, "2", resource="lost-1"),
        charge(7, "5", resource="lost-2", tags={"owner": "nobody-we-know"}),
        charge(8, "100", resource="vm-1", tags={"owner": "payments"}),  # another day
    ]
    path = tmp_path / "jan.csv"
    path.write_text(focus_csv(rows))
    call_command("billing_import", str(path))
    _, cost = figures("M8")
    payments = cost[team.pk, ""]  # 12 EUR over R1, R2 and R3
    assert payments.value == pytest.approx(4.0) and payments.extras["cost"] == "12.0000000000"
    assert cost[team.pk, calc.BY_TAGS].value is None  # joined by tag: no template to divide by
    assert cost[other_team.pk, ""].value == 6.0  # 6 EUR over R4
    assert cost[None, ""].value == pytest.approx(18 / 4)  # the 10 EUR with no owner left out
    outcome, orphans = figures("M10")
    no_owner = orphans[None, calc.NO_OWNER]  # lost-1 (7 days); lost-2 only since the 7th
    assert no_owner.value == 1 and no_owner.extras["costs"] == {"EUR": "5.0000000000"}
    assert no_owner.extras["oldest_days"] == 7
    assert outcome.detail == ""


def test_m10_without_billing_rows_counts_the_resources_alone_and_says_so(db):
    outcome = metric_compute("M10", PERIOD, AFTER)
    assert outcome.status == "ok" and "no billing rows" in outcome.detail
    assert [figure.value for figure in outcome.figures] == [0.0]
