"""Demo SLOs for `seed_demo` (idempotent; demo.catalog has made the teams first).

The Prometheus-backed SLOs get a week of synthetic hourly history — marked as such in each
snapshot — so that their charts have something to show before a Prometheus is connected; the
beat job then records what it really finds (`unavailable` until PROMETHEUS_URL is set). The
`ssops-logins` SLO reads SSOps's own records and evaluates for real from the start.
"""

from __future__ import annotations

import random
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from slo import maths
from slo.models import SLO, AlertEvent, Snapshot
from slo.services import slo_import_text

DEMO = """
apiVersion: openslo/v1
kind: Service
metadata: {name: checkout, displayName: Checkout, annotations: {ssops.io/team: payments}}
spec: {description: Takes orders and payments}
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: checkout-availability
  displayName: Checkout availability
  annotations: {ssops.io/team: payments, ssops.io/runbook-url: "https://runbooks.example/checkout"}
spec:
  description: Checkout requests answered without a server error.
  service: checkout
  indicator:
    metadata: {name: checkout-errors}
    spec:
      ratioMetric:
        counter: true
        bad:
          metricSource:
            type: Prometheus
            spec: {query: 'http_requests_total{service="checkout",code=~"5.."}'}
        total:
          metricSource:
            type: Prometheus
            spec: {query: 'http_requests_total{service="checkout"}'}
  timeWindow: [{duration: 30d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{target: 0.999}]
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: checkout-latency
  displayName: Checkout p99 under 300 ms
  annotations: {ssops.io/team: payments}
spec:
  service: checkout
  indicator:
    spec:
      thresholdMetric:
        metricSource:
          type: Prometheus
          spec: {query: 'max(http_request_latency_p99_seconds{service="checkout"})'}
  timeWindow: [{duration: 28d, isRolling: true}]
  budgetingMethod: Timeslices
  objectives: [{op: lt, value: 0.3, target: 0.99, timeSliceWindow: 5m}]
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: platform-api-availability
  displayName: Platform API availability
  annotations: {ssops.io/team: platform}
spec:
  service: platform-api
  indicator:
    spec:
      ratioMetric:
        counter: true
        good:
          metricSource:
            type: Prometheus
            spec: {query: 'sum(ssops_http_requests_total{status!~"5.."})'}
        total:
          metricSource:
            type: Prometheus
            spec: {query: 'sum(ssops_http_requests_total)'}
  timeWindow: [{duration: 28d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{target: 0.995}]
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: ssops-logins
  displayName: SSOps logins succeed
  annotations: {ssops.io/team: platform}
spec:
  description: Read from SSOps's own audit records, no Prometheus needed.
  service: ssops
  indicator:
    spec:
      ratioMetric:
        counter: true
        good:
          metricSource:
            type: SSOps
            spec: {query: 'ssops_audit_events_total{action="auth.login"}'}
        total:
          metricSource:
            type: SSOps
            spec: {query: 'ssops_audit_events_total{action=~"auth[.]login(_failed)?"}'}
  timeWindow: [{duration: 7d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{target: 0.9}]
---
version: prometheus/v1
service: search
labels: {team: search}
slos:
  - name: availability
    objective: 99.5
    description: Search answers without server errors.
    sli:
      events:
        error_query: sum(rate(http_requests_total{service="search",code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total{service="search"}[{{.window}}]))
    alerting:
      name: SearchAvailability
      annotations: {runbook: "https://runbooks.example/search"}
"""
HISTORY_DAYS = 7
INCIDENT_HOURS_AGO = 52
SYNTHETIC = "demo history (synthetic, made by seed_demo)"


def seed(stdout=None) -> None:
    report = slo_import_text(actor=None, text=DEMO, name="slo/demo.py")
    created = []
    # With a Prometheus (the full demo backfills one), history is evaluated for real instead
    # (manage.py demo_slo_history); synthetic history is only for a demo without one.
    synthetic = not settings.PROMETHEUS_URL
    with transaction.atomic():
        for slo in SLO.objects.filter(name__in=[n for _, n, _ in report.outcomes]):
            if synthetic and slo.data_source is None and not slo.snapshots.exists():
                _history(slo)
                created.append(slo.name)
    if stdout:
        stdout.write(
            f"demo SLOs: {report.count('created')} created, {report.count('unchanged')} unchanged; "
            f"synthetic history for {', '.join(created) or 'none (already there)'}"
        )


def _history(slo: SLO) -> None:
    """A week of hourly snapshots from a simulated error rate, with one incident."""
    rng = random.Random(slo.name)
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    budget = 1 - slo.objective
    period = slo.window().period_seconds
    snapshots, fired_at, resolved_at = [], None, None
    for hours_ago in range(HISTORY_DAYS * 24, -1, -1):
        at = now - timedelta(hours=hours_ago)
        incident = INCIDENT_HOURS_AGO >= hours_ago > INCIDENT_HOURS_AGO - 2
        short = budget * (25 if incident else rng.uniform(0.1, 0.6))
        long = budget * (
            3 if INCIDENT_HOURS_AGO + 4 >= hours_ago >= INCIDENT_HOURS_AGO - 4 else 0.4
        )
        window_error = budget * (0.35 + 0.3 * (hours_ago < INCIDENT_HOURS_AGO))
        burns = {
            w: maths.burn_rate(
                short if s <= 3600 else long if s <= 21600 else window_error, slo.objective
            )
            for w, s in maths.BURN_WINDOWS.items()
        }
        alerts = maths.alerts_firing(burns, period)
        remaining = maths.budget_remaining(window_error, slo.objective)
        if alerts and fired_at is None:
            fired_at = at
        if not alerts and fired_at and resolved_at is None:
            resolved_at = at
        snapshots.append(
            Snapshot(
                slo=slo,
                at=at,
                data_status="ok",
                sli=1 - window_error,
                error_budget_remaining=remaining,
                burn_rates=burns,
                alerts=[a.as_dict() for a in alerts],
                time_to_exhaustion=maths.time_to_exhaustion(remaining, burns["1h"], period),
                detail=SYNTHETIC,
            )
        )
    Snapshot.objects.bulk_create(snapshots, ignore_conflicts=True)
    if fired_at:
        for kind, at in (("fired", fired_at), ("resolved", resolved_at)):
            if at is not None:
                AlertEvent.objects.create(
                    slo=slo, severity="page", kind=kind, at=at, reason=SYNTHETIC
                )
