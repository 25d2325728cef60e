"""Compute one platform metric for one period from the records (no storing here).

Records come from `metrics.records`; M1 asks the SLO sources (Prometheus at PROMETHEUS_URL,
else SSOps's own request counts) and M7 the SLO engine, for exactly the period. The result says
whether the figures could be computed (`ok`), had nothing to count (`no_data`) or could not
reach their source (`unavailable`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import OuterRef, Subquery

from metrics import calculations as calc
from metrics import records
from metrics.calculations import Figure
from metrics.choices import MetricStatus
from metrics.periods import Period
from metrics.sources import PlatformRecordsSource
from slo import engine, maths, promql
from slo.definitions import Window
from slo.sources.base import SourceUnavailable
from slo.sources.factory import sources_for_run
from slo.sources.prometheus import PrometheusSource
from slo.windows import Duration

API_TOTAL = 'ssops_http_requests_total{view=~"api:.*"}'
API_SUCCESSFUL = 'ssops_http_requests_total{view=~"api:.*",status!~"5.."}'


@dataclass
class Outcome:
    figures: list[Figure]
    status: str = MetricStatus.OK
    detail: str = ""

    def __post_init__(self):
        if self.status == MetricStatus.OK and not any(f.value is not None for f in self.figures):
            self.status = MetricStatus.NO_DATA


def _span(period: Period, now: datetime) -> tuple[datetime, datetime]:
    """The part of the period that has happened, in whole minutes."""
    end = period.elapsed_end(now)
    minutes = int((end - period.start).total_seconds() // 60)
    return period.start, period.start + timedelta(minutes=minutes)


# --- M1 ------------------------------------------------------------------------------------------


def api_source():
    """The source of M1: Prometheus when PROMETHEUS_URL is set, else SSOps's own records."""
    if settings.PROMETHEUS_URL:
        url = settings.PROMETHEUS_URL
        return PrometheusSource(url, timeout=settings.PROMETHEUS_TIMEOUT), f"Prometheus at {url}"
    return PlatformRecordsSource(), "SSOps's own request counts (PROMETHEUS_URL is not set)"


def api_counts(source, start: datetime, end: datetime) -> tuple[float | None, float | None]:
    """(successful, total) API requests in (start, end], read like the SLO engine reads them."""
    successful, total = promql.parse_counter(API_SUCCESSFUL), promql.parse_counter(API_TOTAL)
    group = engine.plan_groups([successful, total])[total]
    window = (end - start).total_seconds()
    found = source.increases(group, [window], end)[window]
    index = engine.SeriesIndex(group, found)
    column = index.column(found)
    return engine.total_of(column[index.rows(successful)]), engine.total_of(
        column[index.rows(total)]
    )


def m1(period: Period, now: datetime) -> Outcome:
    start, end = _span(period, now)
    if end <= start:
        return Outcome([], MetricStatus.NO_DATA, "the period has not started")
    source, label = api_source()
    try:
        successful, total = api_counts(source, start, end)
    except SourceUnavailable as exc:
        return Outcome([], MetricStatus.UNAVAILABLE, str(exc))
    return Outcome(calc.api_success(successful, total), detail=f"source: {label}")


# --- M7 ------------------------------------------------------------------------------------------


def slo_burns(start: datetime, end: datetime) -> list[calc.SloBurn]:
    """Every SLO evaluated by the SLO engine over exactly (start, end], with the budget left in
    its own window at `end` (from its stored snapshots)."""
    from slo.models import SLO, Snapshot
    from slo.services import slos_for_evaluation

    minutes = int((end - start).total_seconds() // 60)
    slos = slos_for_evaluation()
    latest = Snapshot.objects.filter(slo=OuterRef("pk"), at__lte=end).order_by("-at")
    budgets = dict(
        SLO.objects.filter(pk__in=[s.pk for s in slos])
        .annotate(budget=Subquery(latest.values("error_budget_remaining")[:1]))
        .values_list("pk", "budget")
    )
    definitions = [
        dataclasses.replace(slo.definition(), window=Window(Duration(minutes, "m"))) for slo in slos
    ]
    evaluations = engine.evaluate(definitions, end, sources_for_run())
    return [
        calc.SloBurn(
            slo.team_id,
            slo.name,
            None if ev.sli is None else maths.burn_rate(1 - ev.sli, slo.objective),
            budgets.get(slo.pk),
            ev.data_status,
        )
        for slo, ev in zip(slos, evaluations, strict=True)
    ]


def m7(period: Period, now: datetime) -> Outcome:
    start, end = _span(period, now)
    if end <= start:
        return Outcome([], MetricStatus.NO_DATA, "the period has not started")
    burns = slo_burns(start, end)
    if not burns:
        return Outcome([], MetricStatus.NO_DATA, "no SLO is defined")
    if all(b.data_status == MetricStatus.UNAVAILABLE for b in burns):
        return Outcome(
            calc.error_budget_burn(burns), MetricStatus.UNAVAILABLE, "no source answered"
        )
    missing = sorted(b.slo for b in burns if b.burn is None)
    detail = f"no data for {', '.join(missing)}" if missing else ""
    return Outcome(calc.error_budget_burn(burns), detail=detail)


# --- the others: records of the period -----------------------------------------------------------


def m2(period: Period, now: datetime) -> Outcome:
    return Outcome(calc.provisioning_latency(records.provisions(period.start, period.end)))


def m3(period: Period, now: datetime) -> Outcome:
    start, end = _span(period, now)
    minutes = int((end - start).total_seconds() // 60)
    return Outcome(calc.catalog_uptime(records.probe_outcomes(start, end), minutes))


def m4(period: Period, now: datetime) -> Outcome:
    return Outcome(calc.approval_turnaround(records.approval_stages(period.start, period.end)))


def m5(period: Period, now: datetime) -> Outcome:
    return Outcome(calc.policy_deny_rate(records.decisions(period.start, period.end)))


def m6(period: Period, now: datetime) -> Outcome:
    runs = records.runbook_runs(period.start, period.end)
    return Outcome(calc.remediation_success(runs))


def m8(period: Period, now: datetime) -> Outcome:
    owners = records.Owners()
    charges = records.charges(period.start, period.end, owners)
    provisions = records.provisions(period.start, period.end)
    return Outcome(calc.cost_per_provision(charges, provisions))


def m9(period: Period, now: datetime) -> Outcome:
    manual = records.manual_oncall_actions(period.start, period.end)
    runs = records.oncall_runbook_runs(period.start, period.end)
    return Outcome(calc.oncall_via_ssops(len(runs), manual))


def m10(period: Period, now: datetime) -> Outcome:
    from metrics.models import BillingRow

    found = records.orphans(period.start, period.end, period.elapsed_end(now))
    billed = BillingRow.objects.filter(
        charge_period_start__gte=period.start, charge_period_start__lt=period.end
    ).exists()
    notes = [] if billed else ["no billing rows imported for this period"]
    figures = calc.orphaned_resources(found) or [
        Figure(
            calc.ALL,
            "",
            0.0,
            {"resources": 0, "oldest_days": None, "median_age_days": None, "costs": {}},
        )
    ]
    return Outcome(figures, detail="; ".join(notes))


def m11(period: Period, now: datetime) -> Outcome:
    checks, gaps = records.transition_checks(period.start, period.end)
    detail = f"{len(gaps)} gap(s): {gaps[0].problem}" if gaps else ""
    return Outcome(calc.audit_completeness(checks), detail=detail)


def m12(period: Period, now: datetime) -> Outcome:
    answers = records.survey_answers(period.start, period.end)
    rated = records.ratings(period.start, period.end)
    detail = "" if answers else "no survey answer in this period"
    return Outcome(calc.user_satisfaction(answers, rated), detail=detail)


COMPUTE: dict[str, Callable[[Period, datetime], Outcome]] = {
    "M1": m1,
    "M2": m2,
    "M3": m3,
    "M4": m4,
    "M5": m5,
    "M6": m6,
    "M7": m7,
    "M8": m8,
    "M9": m9,
    "M10": m10,
    "M11": m11,
    "M12": m12,
}


def metric_compute(key: str, period: Period, now: datetime) -> Outcome:
    """The figures of metric `key` for `period`, as far as `now` has got."""
    return COMPUTE[key](period, now)
