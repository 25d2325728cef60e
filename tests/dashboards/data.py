"""Stored results for the dashboard tests, at any size: SLOs with snapshots and alerts, requests
in every state with their timelines and policy decisions, platform-metric snapshots, budgets,
beat job runs, API request counts and spans. Rows are written directly (what the beat jobs and
services would have stored), so a test can grow the data and check that a page's queries don't."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from catalog.choices import RequestState
from catalog.importer import catalog_import
from catalog.models import (
    Budget,
    MonthlySpend,
    Policy,
    PolicyDecision,
    PolicyVersion,
    Request,
    RequestTransition,
    TemplateVersion,
)
from catalog.services.quotas import month_start
from core.models import ApiRequestCount, JobLock, JobRun, TraceSpan
from metrics import catalogue
from metrics.models import BudgetAlert, MetricSnapshot
from provisioning.models import ProvisioningRun, Runbook, RunStep
from slo.models import SLO, AlertEvent, AlertState, Service, Snapshot
from teams.models import Team
from tests.catalog.conftest import publish, template_document
from tests.helpers import RUNBOOKS

_serial = itertools.count(1)
STATES = [
    RequestState.READY,
    RequestState.FAILED,
    RequestState.PENDING_APPROVAL,
    RequestState.DENIED,
    RequestState.PROVISIONING,
    RequestState.APPROVED,
]
# What M2 (requests made ready) and M5 (requests decided by policy) count per day, as their job
# stores it.
COUNTS = {
    "currency": "EUR",
    "count": 3,
    "requests": 10,
    "denied": 3,
    "decisions": 20,
    "denies": 2,
    "errors": 1,
}
BURNS = {"5m": 20.0, "30m": 16.0, "1h": 15.0, "2h": 4.0, "6h": 7.0, "1d": 3.5, "3d": 1.2}


def template_version() -> TemplateVersion:
    found = TemplateVersion.objects.filter(template__slug="widget").first()
    return found or publish(template_document("widget"))


def policy_version() -> PolicyVersion:
    policy, _ = Policy.objects.get_or_create(slug="guard", defaults={"title": "Guard"})
    version, _ = PolicyVersion.objects.get_or_create(
        policy=policy, number=1, defaults={"mode": "enforce", "source": "package x", "digest": "d"}
    )
    return version


def add_requests(team: Team, requester, count: int, *, now: datetime | None = None) -> list:
    """`count` requests spread over the last days, in turn in each state, each with its
    transitions and two policy decisions (one a deny for denied requests)."""
    now = now or timezone.now()
    version, policy = template_version(), policy_version()
    made = []
    for i in range(count):
        state = STATES[i % len(STATES)]
        filed = now - timedelta(days=i % 20, hours=1)
        item = Request.objects.create(
            template_version=version,
            team=team,
            requester=requester,
            parameters={"name": f"r{next(_serial)}"},
            ttl_hours=24,
            state=state,
            risk_tier="low",
            approval_due_at=now - timedelta(hours=1) if i % 2 else now + timedelta(hours=5),
            deny_reasons=["too big"] if state == RequestState.DENIED else [],
        )
        Request.objects.filter(pk=item.pk).update(created_at=filed, updated_at=filed)
        item.created_at = item.updated_at = filed
        RequestTransition.objects.create(request=item, from_state="", to_state="submitted")
        RequestTransition.objects.create(request=item, from_state="submitted", to_state=state)
        for outcome in ("allow", "deny" if state == RequestState.DENIED else "allow"):
            decision = PolicyDecision.objects.create(
                request=item,
                policy_version=policy,
                mode="enforce",
                outcome=outcome,
                enforced=True,
                deny=["too big"] if outcome == "deny" else [],
                input_digest="x",
                latency_ms=1.0,
            )
            # Stored 15 ms into the filing (the web request's span, in the debug tests).
            decided = filed + timedelta(milliseconds=15)
            PolicyDecision.objects.filter(pk=decision.pk).update(created_at=decided)
        made.append(item)
    return made


def add_slos(team: Team, count: int, *, snapshots: int = 5, now: datetime | None = None):
    """`count` SLOs with hourly snapshots; every other one burning (a page alert firing)."""
    now = (now or timezone.now()).replace(minute=0, second=0, microsecond=0)
    service, _ = Service.objects.get_or_create(name=f"svc-{team.slug}", defaults={"team": team})
    made = []
    for i in range(count):
        n = next(_serial)
        slo = SLO.objects.create(
            name=f"{team.slug}-slo-{n}",
            service=service,
            team=team,
            objective=0.999,
            numerator_query='http_requests_total{code=~"5.."}',
            total_query="http_requests_total",
            runbook_url="https://runbooks.example.test/checkout",
            data_status="ok",
            evaluated_at=now,
            data_status_since=now,
        )
        budget = (0.6, 0.1, -0.2)[i % 3]
        Snapshot.objects.bulk_create(
            Snapshot(
                slo=slo,
                at=now - timedelta(hours=h),
                data_status="ok",
                sli=0.9995,
                error_budget_remaining=budget,
                burn_rates=BURNS,
                time_to_exhaustion=3600.0 * 5,
            )
            for h in range(snapshots)
        )
        if i % 2 == 0:
            AlertState.objects.create(
                slo=slo, severity="page", firing=True, since=now, windows=["1h/5m"]
            )
            AlertEvent.objects.create(
                slo=slo, severity="page", kind="fired", at=now, windows=["1h/5m"], burn_rates=BURNS
            )
        made.append(slo)
    return made


def add_metric_days(team: Team | None, days: int, *, now: datetime | None = None) -> None:
    """Daily snapshots of every metric over the last `days` days (totals, or a team's)."""
    now = now or timezone.now()
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    rows = []
    for metric in catalogue.METRICS:
        for d in range(days):
            start = today - timedelta(days=d)
            rows.append(
                MetricSnapshot(
                    metric=metric.key,
                    period_kind="day",
                    period_start=start,
                    period_end=start + timedelta(days=1),
                    team=team if metric.scope == catalogue.TEAM else None,
                    value=0.9995 if metric.unit == catalogue.RATIO else 42.0 + d,
                    extras=COUNTS,
                    data_status="ok",
                    complete=d > 0,
                    computed_at=now,
                    definition=metric.version,
                )
            )
    MetricSnapshot.objects.bulk_create(rows, ignore_conflicts=True)


def add_costs(team: Team, *, now: datetime | None = None, firing: bool = True) -> None:
    now = now or timezone.now()
    month = month_start(now)
    Budget.objects.update_or_create(team=team, defaults={"monthly_limit": Decimal("1000")})
    MonthlySpend.objects.update_or_create(
        team=team, period=month, defaults={"amount": Decimal("250")}
    )
    BudgetAlert.objects.update_or_create(
        team=team,
        month=month,
        defaults={
            "firing": firing,
            "since": now if firing else None,
            "burn_rate": 2.5 if firing else 0.5,
            "spend": Decimal("600"),
            "budgeted_so_far": Decimal("240"),
            "monthly_limit": Decimal("1000"),
            "currency": "EUR",
            "covered_until": now,
            "evaluated_at": now,
        },
    )


def add_operations(count: int, *, now: datetime | None = None) -> None:
    """Beat job runs, API request counts per minute (some 5xx) and API server spans."""
    now = now or timezone.now()
    for i in range(count):
        at = now - timedelta(minutes=i + 1)
        name = "slo.tasks.evaluate" if i % 2 else "metrics.tasks.platform_metrics"
        JobLock.objects.get_or_create(name=name)  # every run takes its job's lease first
        JobRun.objects.create(
            name=name,
            started_at=at,
            finished_at=at,
            duration_ms=12.0,
            outcome="failed" if i % 3 == 0 else "ok",
            error="RetryError: Prometheus down" if i % 3 == 0 else "",
        )
        minute = int(at.timestamp()) // 60 * 60
        for status, n in (("200", 40), ("503", 1)):
            ApiRequestCount.objects.update_or_create(
                minute=minute,
                view="api:request-list",
                method="GET",
                status=status,
                defaults={"count": n},
            )
        trace = f"{next(_serial):032x}"
        TraceSpan.objects.create(
            trace_id=trace,
            span_id=f"{i + 1:016x}",
            name="GET api/requests/",
            kind="SERVER",
            start=at,
            end=at + timedelta(milliseconds=30 + i),
            duration_ms=30.0 + i,
        )


def make_unreachable(slos) -> None:
    """The SLOs' Prometheus refused to answer since 2026-01-01 10:42 UTC."""
    slos.update(
        data_status="unavailable",
        data_status_since=datetime(2026, 1, 1, 10, 42, tzinfo=UTC),
        data_status_detail="Prometheus at http://prom:9090 is unreachable: refused",
    )


def add_run(item, *, state: str = "rolled_back", kind: str = "provision", at=None):
    """A provision run of the request as the engine leaves it: the namespace made, the database
    step failing after three attempts, the namespace undone; each step with its log."""
    start = (at or item.created_at) + timedelta(milliseconds=100)  # right after filing
    run = ProvisioningRun.objects.create(
        kind=kind,
        request=item,
        template=item.template_version.template.slug,
        state=state,
        error="step db failed: role exists" if state != "running" else "",
        started_at=start,
        finished_at=None if state == "running" else start + timedelta(seconds=40),
    )
    steps = [
        ("ns", "kubernetes.namespace", "apply", "succeeded", 1, 0, 2, ""),
        ("db", "postgres.database", "apply", "failed", 3, 3, 30, "role exists"),
        ("ns", "kubernetes.namespace", "undo", "succeeded", 1, 34, 1, ""),
    ]
    for position, (step_id, action, operation, step_state, attempts, at, took, error) in enumerate(
        steps, start=1
    ):
        begun = start + timedelta(seconds=at)
        RunStep.objects.create(
            run=run,
            position=position,
            step_id=step_id,
            name=step_id.upper(),
            action=action,
            operation=operation,
            state=step_state,
            attempts=attempts,
            error=error,
            started_at=begun,
            finished_at=begun + timedelta(seconds=took),
            duration_ms=took * 1000.0,
            log=[
                {"at": begun.isoformat(), "level": "info", "message": f"{operation} {step_id}"},
                *([{"at": begun.isoformat(), "level": "error", "message": error}] if error else []),
            ],
        )
    return run


def add_runbook(slug: str = "flush-cache") -> Runbook:
    """A shipped runbook, published as `catalog_import` does."""
    report = catalog_import(actor=None, paths=[RUNBOOKS / f"{slug}-1.0.0.yaml"])
    assert not report.errors, report.errors
    return Runbook.objects.get(slug=slug)
