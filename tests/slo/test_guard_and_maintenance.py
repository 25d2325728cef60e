"""The low-traffic guard and planned maintenance, against the session's Prometheus and a real
Alertmanager: a window short of events raises no page that it raises without the guard (live,
in a backtest, and in the rules Prometheus evaluates); a maintenance window's events leave the
SLI — each figure equals PromQL written here over the intervals the window leaves — its alerts
are held, and its silence reaches Alertmanager; who may plan maintenance, and when."""

from __future__ import annotations

import io
import json
import math
from datetime import UTC, datetime, timedelta

import pytest
import requests
import yaml
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.utils import timezone

from audit.models import AuditEvent
from slo import maths
from slo.backtest import rfc3339
from slo.models import SLO, BudgetAdjustment, MaintenanceSilence, Service
from slo.services import adjustment_create, adjustment_delete, silences_sync
from tests.slo import workload
from tests.slo.test_rules import (
    EVAL_MINUTES,
    SERIES,
    SLOS,
    increase,
    occurrence_error,
    promtool,
    rules,
    samples,
    total,
)

DAY = 86400
BAD = 'http_requests_total{service="checkout",code=~"5.."}'
ALL = 'http_requests_total{service="checkout"}'
WINDOWS = {"5m": 300, "30m": 1800, "1h": 3600, "2h": 7200, "6h": 21600, "1d": DAY, "3d": 3 * DAY}


def evaluate(at: float, name: str = "checkout-availability") -> dict:
    out = io.StringIO()
    call_command("slo_evaluate", "--json", "--at", rfc3339(at), "--slo", name, stdout=out)
    (result,) = json.loads(out.getvalue())
    return result


def backtest(at: float, days: float, name: str = "checkout-availability") -> dict:
    out = io.StringIO()
    call_command(
        "slo_backtest", name, "--days", str(days), "--at", rfc3339(at), "--json", stdout=out
    )
    return json.loads(out.getvalue())


@pytest.fixture
def checkout(settings, prometheus, workload_slos):
    settings.PROMETHEUS_URL = prometheus.url
    return SLO.objects.get(name="checkout-availability")


# -- the low-traffic guard ---------------------------------------------------------------------


def test_a_window_short_of_events_raises_no_page_it_raises_without_the_guard(checkout):
    during = workload.OUTAGE[0] + 600
    unguarded = evaluate(during)
    assert "page" in {a["severity"] for a in unguarded["alerts"]}
    # Checkout serves about 60,000 requests an hour, 4.3 million in three days: ask for more
    # events than any alert's long window holds before the alert may fire.
    SLO.objects.filter(pk=checkout.pk).update(min_events=10_000_000)
    guarded = evaluate(during)
    assert guarded["alerts"] == [] and guarded["data_status"] == "low_traffic"
    assert guarded["burn_rates"] == unguarded["burn_rates"]  # the figures do not change
    SLO.objects.filter(pk=checkout.pk).update(min_events=0)  # 0: no guard
    assert evaluate(during)["alerts"] == unguarded["alerts"]


def test_a_backtest_lists_what_the_guard_held_back_apart(checkout):
    from slo.services.backtests import slo_backtest_run

    at = datetime.fromtimestamp(workload.END, UTC)
    unguarded = slo_backtest_run(slo=checkout, days=1, at=at).backtest
    pages = [(e.start, e.end) for e in unguarded.alerts if e.severity == "page"]
    assert pages and not unguarded.held
    SLO.objects.filter(pk=checkout.pk).update(min_events=10_000_000)
    checkout.refresh_from_db()
    guarded = slo_backtest_run(slo=checkout, days=1, at=at).backtest
    assert not [e for e in guarded.alerts if e.severity == "page"]
    held = [(e.start, e.end) for e in guarded.held if e.severity == "page"]
    assert held == pages and {e.reason for e in guarded.held} == {"low_traffic"}


def test_the_rules_carry_the_guard_and_promtool_agrees(slo_import, team, tmp_path):
    """The rules slo_rules writes hold back what the guard holds back: promtool runs them over
    the synthetic day of test_rules (100 requests a minute), with the SLO's minimum above its
    traffic in six hours, below its traffic in a day: pages held, tickets not."""
    slo_import(SLOS)
    SLO.objects.filter(name="api-availability").update(min_events=40_000)
    (tmp_path / "rules.yaml").write_text(rules())
    values = samples()
    labels = {"severity": "", "slo": "api-availability", "service": "api", "team": "payments"}
    alert_tests, held_somewhere = [], False
    for minute in EVAL_MINUTES:
        burns, events = {}, {}
        for window, seconds in maths.BURN_WINDOWS.items():
            burns[window] = maths.burn_rate(occurrence_error(values, minute, seconds), 0.99)
            events[window] = total(*(increase(values[c], minute, seconds) for c in SERIES))
        firing, held, _ = maths.alerts_guarded(burns, 86400, events, 0.99, 40_000)
        unguarded = {a.severity for a in maths.alerts_firing(burns, 86400)}
        held_somewhere |= "page" in unguarded - {a.severity for a in firing}
        alert_tests.append(
            {
                "eval_time": f"{minute}m",
                "alertname": "SLOErrorBudgetBurn",
                "exp_alerts": [
                    {
                        "exp_labels": {**labels, "severity": severity},
                        "exp_annotations": {
                            "summary": "SLO api-availability of api is burning its error budget"
                        },
                    }
                    for severity in sorted({a.severity for a in firing})
                ],
            }
        )
    assert held_somewhere  # a page the guard holds back at some minute
    suite = {
        "rule_files": ["rules.yaml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    {
                        "series": SERIES[code],
                        "values": " ".join("_" if v is None else repr(v) for v in values[code]),
                    }
                    for code in SERIES
                ],
                "alert_rule_test": alert_tests,
            }
        ],
    }
    (tmp_path / "test.yaml").write_text(yaml.safe_dump(suite, sort_keys=False))
    result = promtool("test", "rules", "test.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]


# -- planned maintenance -----------------------------------------------------------------------

# Around the outage: its errors happen inside the window.
AROUND_OUTAGE = (workload.OUTAGE[0] - 300, workload.OUTAGE[1] + 300)


def plan(actor, start: float, end: float, name: str = "checkout-failover", **extra):
    return adjustment_create(
        actor=actor,
        service=Service.objects.get(name="checkout"),
        slo=extra.pop("slo", SLO.objects.get(name="checkout-availability")),
        name=name,
        first_start=datetime.fromtimestamp(start, UTC),
        duration=timedelta(seconds=end - start),
        **extra,
    )


def pieces(start: float, end: float, cut: tuple[float, float]) -> list[tuple[float, float]]:
    a, b = cut
    if b <= start or a >= end:
        return [(start, end)]
    return [(s, e) for s, e in ((start, a), (b, end)) if e > s]


def events_without(prometheus, selector: str, at: float, seconds: float, cut) -> float | None:
    """The increase over (at - seconds, at] minus the maintenance window, as PromQL: one
    increase() per interval the window leaves, each evaluated at that interval's end (@)."""
    parts = [
        f"sum(increase({selector}[{round((e - s) * 1000)}ms] @ {e:.3f}))"
        for s, e in pieces(at - seconds, at, cut)
    ]
    if not parts:
        return None
    value = prometheus.value(" + ".join(parts), at)
    return None if value is None or math.isnan(value) else value


def test_a_maintenance_window_leaves_the_sli_as_promql_over_the_rest(
    checkout, platform_admin, prometheus
):
    plan(platform_admin, *AROUND_OUTAGE, reason="the failover drill planned last week")
    for at in (workload.END, workload.OUTAGE[1] + 1200):
        result = evaluate(at)
        windows = {**WINDOWS, "slo": 30 * DAY}
        errors = {}
        for name, seconds in windows.items():
            bad = events_without(prometheus, BAD, at, seconds, AROUND_OUTAGE)
            everything = events_without(prometheus, ALL, at, seconds, AROUND_OUTAGE)
            errors[name] = None if not everything else (bad or 0.0) / everything
        assert math.isclose(result["sli"], 1 - errors["slo"], rel_tol=1e-12)
        for name in WINDOWS:
            burn = None if errors[name] is None else errors[name] / (1 - 0.999)
            got = result["burn_rates"][name]
            assert (got is None) == (burn is None), name
            if burn is not None:
                assert math.isclose(got, burn, rel_tol=1e-9), (at, name, got, burn)
        assert result["alerts"] == []  # the outage's errors do not count
    # Without the window, the same moment after the outage still pages.
    BudgetAdjustment.objects.all().delete()
    assert evaluate(workload.OUTAGE[1] + 1200)["alerts"]


def test_alerts_inside_a_window_are_held_and_a_backtest_lists_none(checkout, platform_admin):
    # A window that begins five minutes into the outage: what burned before it still holds the
    # 6h/30m condition inside it, and the alert is held rather than fired.
    window = (workload.OUTAGE[0] + 300, workload.OUTAGE[0] + 3600)
    plan(platform_admin, *window, reason="emergency maintenance, see the incident")
    from slo.services import slo_evaluate

    checkout.refresh_from_db()
    (inside,) = slo_evaluate(slos=[checkout], at=datetime.fromtimestamp(window[0] + 300, UTC))
    assert inside.alerts == []
    assert {(h.alert.severity, h.reason) for h in inside.held} == {("page", "maintenance")}
    from slo.services.backtests import slo_backtest_run

    found = slo_backtest_run(slo=checkout, days=1, at=datetime.fromtimestamp(workload.END, UTC))
    pages = [e for e in found.backtest.alerts if e.severity == "page"]
    # The page of the outage's first minutes fired before the window; none inside or after it.
    assert pages and all(e.end < window[0] for e in pages)
    held = [e for e in found.backtest.held if e.reason == "maintenance"]
    assert held and all(window[0] <= e.start and e.end < window[1] for e in held)


def test_its_silence_reaches_alertmanager_once(checkout, alice, alertmanager, settings):
    settings.ALERTMANAGER_URL = alertmanager.url
    now = timezone.now().replace(microsecond=0)
    start = now + timedelta(hours=2)
    adjustment = plan(alice, start.timestamp(), (start + timedelta(minutes=90)).timestamp())
    assert silences_sync(now=now).created == 1
    assert silences_sync(now=now).created == 0  # made once
    found = requests.get(f"{alertmanager.url}/api/v2/silences", timeout=5).json()
    (silence,) = [s for s in found if s["id"] == adjustment.silences.get().silence_id]
    assert silence["matchers"] == [
        {"name": "slo", "value": "checkout-availability", "isRegex": False, "isEqual": True}
    ]
    assert datetime.fromisoformat(silence["startsAt"].replace("Z", "+00:00")) == start
    assert silence["createdBy"] == "ssops" and silence["status"]["state"] == "pending"
    assert AuditEvent.objects.filter(action="slo.adjustment.silenced").count() == 1
    # Removing the window expires its silence.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("django.db.transaction.on_commit", lambda callback: callback())
        adjustment_delete(actor=alice, adjustment=adjustment)
    found = requests.get(f"{alertmanager.url}/api/v2/silences", timeout=5).json()
    (silence,) = [s for s in found if s["id"] == silence["id"]]
    assert silence["status"]["state"] == "expired"


def test_a_recurring_window_silences_each_occurrence_ahead_of_time(
    checkout, alice, alertmanager, settings
):
    settings.ALERTMANAGER_URL = alertmanager.url
    now = timezone.now().replace(second=0, microsecond=0)
    start = now + timedelta(hours=1)
    plan(
        alice,
        start.timestamp(),
        (start + timedelta(hours=1)).timestamp(),
        name="nightly-vacuum",
        slo=None,
        rrule="FREQ=DAILY;COUNT=3",
    )
    assert silences_sync(now=now).created == 1  # only the next day's occurrence
    assert silences_sync(now=now + timedelta(days=1)).created == 1
    made = MaintenanceSilence.objects.order_by("starts_at")
    assert [s.starts_at for s in made] == [start, start + timedelta(days=1)]
    found = requests.get(f"{alertmanager.url}/api/v2/silences", timeout=5).json()
    mine = [s for s in found if s["id"] in {m.silence_id for m in made}]
    assert {m["matchers"][0]["value"] for m in mine} == {"checkout"}  # the whole service


def test_only_a_platform_admin_adds_a_window_that_has_begun_and_says_why(
    checkout, alice, bob, platform_admin
):
    past = workload.END - 3600
    with pytest.raises(PermissionDenied, match="platform admin"):
        plan(alice, past, past + 600)
    with pytest.raises(PermissionDenied):
        plan(bob, timezone.now().timestamp() + 3600, timezone.now().timestamp() + 7200)
    with pytest.raises(ValidationError, match="say why"):
        plan(platform_admin, past, past + 600)
    made = plan(platform_admin, past, past + 600, reason="the load test was announced")
    event = AuditEvent.objects.get(action="slo.adjustment.created")
    assert event.payload["reason"] == "the load test was announced" and made.created_by_id
    with pytest.raises(PermissionDenied):
        adjustment_delete(actor=alice, adjustment=made)


def test_slo_import_reads_openslo_v2alpha_budget_adjustments(checkout, slo_import):
    later = (timezone.now() + timedelta(days=2)).replace(microsecond=0)
    slo_import(
        f"""
apiVersion: openslo.com/v2alpha
kind: BudgetAdjustment
metadata:
  name: checkout-db-upgrade
  annotations: {{ssops.io/rrule: "FREQ=WEEKLY;BYDAY=SU"}}
spec:
  description: Weekly database maintenance
  service: checkout
  indicatorRef: checkout-errors
  startTime: "{later.isoformat().replace("+00:00", "Z")}"
  duration: 2h
""",
        name="maintenance.yaml",
    )
    made = BudgetAdjustment.objects.get(name="checkout-db-upgrade")
    assert made.slo == checkout and made.first_start == later and made.duration_seconds == 7200
    assert made.rrule == "FREQ=WEEKLY;BYDAY=SU"
    assert AuditEvent.objects.filter(action="slo.budgetadjustment.created").exists()


@pytest.mark.parametrize(
    ("spec", "field", "message"),
    [
        ("startTime: yesterday\n  duration: 1h", "spec.startTime", "not an RFC 3339 time"),
        (
            'startTime: "2030-01-01T00:00:00Z"\n  duration: 1h\n  endTime: "2030-01-01T01:00:00Z"',
            "spec.endTime",
            "one of endTime or duration",
        ),
        ('startTime: "2030-01-01T00:00:00Z"\n  duration: 1M', "spec.duration", "m, h, d or w"),
        ('startTime: "2030-01-01T00:00:00Z"\n  duration: 1h\n  endDate: x', "spec.endDate", "not"),
        (
            'startTime: "2020-01-01T00:00:00Z"\n  duration: 1h',
            "ssops.io/reason",
            "already begun",
        ),
    ],
)
def test_a_bad_budget_adjustment_is_refused_naming_the_field(checkout, spec, field, message):
    from slo.importers import ImportRefused
    from slo.services import slo_import_text

    text = f"""
apiVersion: openslo.com/v2alpha
kind: BudgetAdjustment
metadata: {{name: bad-window}}
spec:
  description: x
  service: checkout
  indicatorRef: checkout-availability
  {spec}
"""
    with pytest.raises(ImportRefused) as refused:
        slo_import_text(actor=None, text=text, name="bad.yaml")
    assert field in str(refused.value) and message in str(refused.value)
    assert not BudgetAdjustment.objects.exists()


def test_slo_export_writes_maintenance_back_and_importing_it_changes_nothing(
    checkout, alice, slo_import, tmp_path
):
    start = (timezone.now() + timedelta(days=3)).replace(microsecond=0)
    plan(alice, start.timestamp(), start.timestamp() + 5400, rrule="FREQ=WEEKLY;COUNT=4")
    plan(alice, start.timestamp(), start.timestamp() + 61, name="odd-length", slo=None)
    out = io.StringIO()
    call_command("slo_export", stdout=out)
    documents = [
        d for d in yaml.safe_load_all(out.getvalue()) if d.get("kind") == "BudgetAdjustment"
    ]
    assert [d["metadata"]["name"] for d in documents] == ["checkout-failover", "odd-length"]
    failover, odd = documents
    assert failover["apiVersion"] == "openslo.com/v2alpha"
    assert failover["spec"]["indicatorRef"] == "checkout-availability"
    assert failover["spec"]["duration"] == "90m"
    assert failover["metadata"]["annotations"] == {"ssops.io/rrule": "FREQ=WEEKLY;COUNT=4"}
    assert "indicatorRef" not in odd["spec"] and "endTime" in odd["spec"]
    before = AuditEvent.objects.count()
    (tmp_path / "export.yaml").write_text(out.getvalue())
    report = slo_import(tmp_path / "export.yaml")
    assert "created" not in report.split("unchanged")[0] or "0 created" in report
    assert (
        not AuditEvent.objects.filter(pk__gt=0, action__startswith="slo.budgetadjustment.")
        .exclude(action="slo.budgetadjustment.created")
        .exists()
    )
    assert AuditEvent.objects.count() == before  # nothing changed, nothing recorded
