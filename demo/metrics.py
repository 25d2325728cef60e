"""Demo data of the platform metrics for `seed_demo` (idempotent; runs after demo.catalog and
demo.slos): SSOps's own SLOs, a FOCUS billing export imported for last and this month (search
spends fast enough to fire its budget alert; some resources have no owner), a week of probe
history (synthetic, marked so), an incident with manual on-call actions, ratings of the demo's
finished requests, and the metrics computed for the past weeks.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from catalog.models import Request
from metrics import focus
from metrics.models import (
    BillingImport,
    Incident,
    ProbeResult,
    SatisfactionRating,
    SurveyAnswer,
)
from metrics.periods import DAY, MONTH, WEEK, periods_ending, quarter_of
from metrics.services import (
    IN_FLIGHT,
    billing_import,
    budget_burn_evaluate,
    incident_acknowledge,
    incident_open,
    incident_resolve,
    metric_snapshots_record,
    oncall_action_log,
    rating_submit,
    ssops_slos_import,
    survey_answer,
)
from slo.models import SLO
from teams.models import Team

# resource id, service, EffectiveCost a day (EUR), tags
RESOURCES = [
    ("k8s/payments-checkout-v2", "Kubernetes Engine", 41.0, {"owner": "payments", "env": "dev"}),
    ("pg/payments-ledger", "Managed PostgreSQL", 24.0, {"cost-center": "CC-1001"}),
    ("k8s/search-indexer", "Kubernetes Engine", 38.0, {"owner": "search", "env": "prod"}),
    ("vm/ssops-web", "Virtual Machines", 95.0, {"owner": "platform", "app": "ssops"}),
    ("vm/forgotten-7", "Virtual Machines", 12.0, {}),
    ("bucket/old-logs", "Object Storage", 3.5, {"env": "dev"}),
]
HEADER = [*focus.MANDATORY, "ProviderName", "PublisherName", "ResourceId", "ResourceName", "Tags"]
PROBE_DAYS = 7
SYNTHETIC_OUTAGE_HOURS_AGO = 50


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _month_start(moment: datetime) -> datetime:
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _next_month(start: datetime) -> datetime:
    return start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)


def focus_export(now: datetime) -> str:
    """A FOCUS 1.2 CSV: one row per resource and day, from the first of last month to yesterday."""
    rng = random.Random(20260101)
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    first = _month_start(_month_start(today) - timedelta(days=1))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=HEADER, lineterminator="\n")
    writer.writeheader()
    day = first
    while day < today:
        period = _month_start(day)
        for resource, service, per_day, tags in RESOURCES:
            cost = f"{per_day * rng.uniform(0.85, 1.15):.4f}"
            list_cost = f"{float(cost) * 1.2:.4f}"
            writer.writerow(
                {
                    "BilledCost": cost,
                    "BillingAccountId": "demo-account",
                    "BillingAccountName": "SSOps demo",
                    "BillingCurrency": "EUR",
                    "BillingPeriodStart": _stamp(period),
                    "BillingPeriodEnd": _stamp(_next_month(period)),
                    "ChargeCategory": "Usage",
                    "ChargeClass": "",
                    "ChargeDescription": f"{service} for {resource}",
                    "ChargePeriodStart": _stamp(day),
                    "ChargePeriodEnd": _stamp(day + timedelta(days=1)),
                    "ContractedCost": cost,
                    "EffectiveCost": cost,
                    "InvoiceIssuerName": "Example Cloud",
                    "ListCost": list_cost,
                    "PricingQuantity": "24",
                    "PricingUnit": "Hours",
                    "ProviderName": "Example Cloud",
                    "PublisherName": "Example Cloud",
                    "ServiceCategory": "Storage" if "bucket" in resource else "Compute",
                    "ServiceName": service,
                    "ResourceId": resource,
                    "ResourceName": resource.split("/")[-1],
                    "Tags": json.dumps(tags) if tags else "",
                }
            )
        day += timedelta(days=1)
    return out.getvalue()


def _probes(now: datetime) -> int:
    """A week of synthetic probe minutes (marked synthetic), with a four-minute outage."""
    minute = now.replace(second=0, microsecond=0)
    outage = minute - timedelta(hours=SYNTHETIC_OUTAGE_HOURS_AGO)
    rows = []
    for step in range(1, PROBE_DAYS * 1440):
        at = minute - timedelta(minutes=step)
        failed = outage <= at < outage + timedelta(minutes=4)
        rows.append(
            ProbeResult(
                at=at,
                ok=not failed,
                status_code=503 if failed else 200,
                latency_ms=180.0 if failed else 40.0 + step % 17,
                error="GET /api/templates/ answered 503 (demo outage)" if failed else "",
                synthetic=True,
            )
        )
    before = ProbeResult.objects.count()
    ProbeResult.objects.bulk_create(rows, ignore_conflicts=True, batch_size=2000)
    return ProbeResult.objects.count() - before


def _incident(now: datetime) -> None:
    """Two incidents: a resolved one five days ago (its MTTA and MTTR on the executive page,
    timed as it went: opened 10 minutes into the impact, taken 5 minutes later, resolved after
    90 minutes) and an open one of the last hour (on the on-call page)."""
    if Incident.objects.exists():
        return
    oncall = get_user_model().objects.get(username="oncall")
    began = now - timedelta(days=5, hours=2)
    incident = incident_open(
        actor=oncall,
        title="Checkout answers 5xx after a deploy",
        severity="sev1",
        slos=list(SLO.objects.filter(name="checkout-availability")),
        started_at=began,
    )
    for minutes, what in (
        (20, "Rolled checkout back to the previous image with kubectl by hand"),
        (40, "Purged the CDN cache from the provider's console"),
    ):
        oncall_action_log(
            actor=oncall,
            incident=incident,
            description=what,
            performed_at=began + timedelta(minutes=minutes),
        )
    incident_acknowledge(actor=oncall, incident=incident)
    incident_resolve(actor=oncall, incident=incident)
    Incident.objects.filter(pk=incident.pk).update(
        opened_at=began + timedelta(minutes=10),
        acknowledged_at=began + timedelta(minutes=15),
        resolved_at=began + timedelta(minutes=90),
    )
    incident_open(
        actor=oncall,
        title="Search results lag behind the index",
        severity="sev3",
        slos=list(SLO.objects.filter(name__startswith="search-")[:1]),
        started_at=now - timedelta(hours=1),
    )


def _ratings() -> int:
    rated = 0
    for request in Request.objects.exclude(state__in=IN_FLIGHT).select_related("requester"):
        if SatisfactionRating.objects.filter(request=request).exists():
            continue
        score, comment = (5, "") if request.state == "ready" else (3, "Clear reason, but a detour")
        rating_submit(actor=request.requester, request=request, score=score, comment=comment)
        rated += 1
    return rated


# Demo users who answered the quarterly survey (M12) in the last days; exec and admin are asked
# when they sign in.
SURVEY = [("dev", 9, 3), ("approver", 7, 2), ("oncall", 10, 1)]  # username, score, days ago


def _survey_answers(now) -> int:
    answered = 0
    users = {
        u.username: u
        for u in get_user_model().objects.filter(
            username__in=dict.fromkeys(name for name, _, _ in SURVEY)
        )
    }
    for username, score, days_ago in SURVEY:
        at = now - timedelta(days=days_ago)
        user = users.get(username)
        if user is None or SurveyAnswer.objects.filter(user=user, quarter=quarter_of(at)).exists():
            continue
        survey_answer(actor=user, score=score, now=at)
        answered += 1
    return answered


def seed(stdout=None) -> None:
    now = timezone.now().astimezone(UTC)
    admin = get_user_model().objects.filter(username="admin").first()
    platform = Team.objects.get(slug="platform")
    ssops_slos_import(actor=admin, team=platform, prometheus=bool(settings.PROMETHEUS_URL))
    export = focus_export(now)
    record = BillingImport.objects.filter(
        sha256=hashlib.sha256(export.encode()).hexdigest()
    ).first()
    if record is None:  # the same export (same day) is not imported twice
        record = billing_import(actor=admin, lines=io.StringIO(export), file_name="demo-focus.csv")
    probes = _probes(now)
    _incident(now)
    rated = _ratings()
    answered = _survey_answers(now)
    budget_burn_evaluate(now=now)
    periods = [
        *periods_ending(DAY, now, 14),
        *periods_ending(WEEK, now, 6),
        *periods_ending(MONTH, now, 3),
    ]
    for period in periods:
        metric_snapshots_record(period=period, now=now)
    if stdout:
        stdout.write(
            f"platform metrics: SSOps SLOs imported; billing {record.row_count} rows "
            f"(replaced {record.replaced_rows}); {probes} synthetic probe minutes added; {rated} "
            f"rating(s); {answered} survey answer(s); metrics computed for {len(periods)} periods"
        )
