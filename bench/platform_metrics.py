"""Platform-metrics benchmark: can the beat job keep up with a busy month?

A month of records on SQLite: requests filed, approved and made ready (each transition with its
audit event), policy decisions, ratings, a probe result every minute, and a FOCUS export with one
row per resource and day, imported with billing_import.

import_rows_per_s: FOCUS rows checked and imported per second (billing_import, whole file).
month_seconds: M1–M12 computed and stored for the month (what the 10-minute beat job does for
the current month), end to end.
slowest_metric / slowest_seconds: the metric that takes longest, and its time.
overview_ms: the overview page's reads (metrics_overview over 12 periods) from the snapshots.

Checks (exit 1): every billing row imported; M2's p95, M11 and M12's average as stored equal
what the benchmark computes from the records it wrote. --smoke: 100 requests.
"""

from __future__ import annotations

import csv
import io
import json
import math
import random
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from _setup import Checks, arguments, django_with_fresh_sqlite, finish

MONTH = datetime(2026, 1, 1, tzinfo=UTC)


@contextmanager
def stamps_kept(*models):
    """Let bulk_create keep the created_at given (auto_now_add would write "now")."""
    fields = [model._meta.get_field("created_at") for model in models]
    for field in fields:
        field.auto_now_add = False
    try:
        yield
    finally:
        for field in fields:
            field.auto_now_add = True


def seed_requests(n: int, rng: random.Random) -> None:
    """n requests spread over January, each filed → approved → provisioning → ready with an
    audit event per transition, a policy decision, and for one in five a rating."""
    from django.contrib.auth import get_user_model

    from audit.services import audit_record
    from catalog.importer import DEFAULT_ROOT, catalog_import
    from catalog.models import (
        PolicyDecision,
        PolicyVersion,
        Request,
        RequestTransition,
        TemplateVersion,
    )
    from metrics.models import SatisfactionRating
    from teams.models import Team

    catalog_import(actor=None, paths=[DEFAULT_ROOT / "templates", DEFAULT_ROOT / "policies"])
    user = get_user_model().objects.create(username="bench")
    teams = [Team.objects.create(slug=f"team-{i}", name=f"Team {i}") for i in range(10)]
    versions = list(TemplateVersion.objects.all())
    policy_version = PolicyVersion.objects.first()
    with stamps_kept(Request):
        Request.objects.bulk_create(
            [
                Request(
                    template_version=rng.choice(versions),
                    team=rng.choice(teams),
                    requester=user,
                    parameters={"name": f"r{i}"},
                    ttl_hours=24,
                    state="ready",
                    risk_tier="low",
                    created_at=MONTH + timedelta(seconds=rng.uniform(0, 30 * 86400)),
                )
                for i in range(n)
            ],
            batch_size=1000,
        )
    transitions, decisions, ratings = [], [], []
    for request in Request.objects.all():
        for from_state, to_state, after in (
            ("", "submitted", 0),
            ("submitted", "approved", 0.2),
            ("approved", "provisioning", 0.3),
            ("provisioning", "ready", rng.uniform(20, 180)),
        ):
            event = audit_record(
                action=f"request.{to_state}", obj=request, team=request.team_id, payload={}
            )
            transitions.append(
                RequestTransition(
                    request=request,
                    from_state=from_state,
                    to_state=to_state,
                    audit_seq=event.seq,
                    created_at=request.created_at + timedelta(seconds=after),
                )
            )
        decisions.append(
            PolicyDecision(
                request=request,
                policy_version=policy_version,
                mode="enforce",
                outcome=rng.choice(["allow"] * 9 + ["deny"]),
                enforced=True,
                input_digest="x",
                latency_ms=1.0,
                created_at=request.created_at,
            )
        )
        if rng.random() < 0.2:
            ratings.append(
                SatisfactionRating(
                    request=request,
                    user=user,
                    team_id=request.team_id,
                    score=rng.randint(1, 5),
                    created_at=request.created_at + timedelta(hours=1),
                )
            )
    with stamps_kept(RequestTransition, PolicyDecision, SatisfactionRating):
        RequestTransition.objects.bulk_create(transitions, batch_size=2000)
        PolicyDecision.objects.bulk_create(decisions, batch_size=2000)
        SatisfactionRating.objects.bulk_create(ratings, batch_size=2000)


def focus_export(resources: int, rng: random.Random) -> str:
    from demo.metrics import HEADER

    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=HEADER, lineterminator="\n")
    writer.writeheader()
    for day in range(31):
        start = MONTH + timedelta(days=day)
        for r in range(resources):
            cost = f"{rng.uniform(0.5, 40):.4f}"
            writer.writerow(
                {
                    **dict.fromkeys(HEADER, ""),
                    "BilledCost": cost,
                    "EffectiveCost": cost,
                    "ListCost": cost,
                    "ContractedCost": cost,
                    "BillingAccountId": "bench",
                    "BillingAccountName": "bench",
                    "BillingCurrency": "EUR",
                    "BillingPeriodStart": "2026-01-01T00:00:00Z",
                    "BillingPeriodEnd": "2026-02-01T00:00:00Z",
                    "ChargePeriodStart": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "ChargePeriodEnd": (start + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "ChargeCategory": "Usage",
                    "ChargeDescription": "compute",
                    "InvoiceIssuerName": "cloud",
                    "PricingQuantity": "24",
                    "PricingUnit": "Hours",
                    "ProviderName": "cloud",
                    "PublisherName": "cloud",
                    "ServiceCategory": "Compute",
                    "ServiceName": "VMs",
                    "ResourceId": f"res-{r}",
                    "Tags": json.dumps({"owner": f"team-{r % 12}"}),  # two of twelve unowned
                }
            )
    return out.getvalue()


def main() -> None:
    args = arguments(__doc__)
    django_with_fresh_sqlite("platform_metrics")
    from metrics import catalogue
    from metrics.compute import metric_compute
    from metrics.models import ProbeResult
    from metrics.periods import period_containing
    from metrics.selectors import metrics_overview
    from metrics.services import billing_import, metric_snapshots_record

    rng = random.Random(6)
    if args.smoke:
        requests, resources = 100, 10
    else:
        requests, resources = (2_000, 100) if args.quick else (20_000, 1_000)
    seed_requests(requests, rng)
    ProbeResult.objects.bulk_create(
        [
            ProbeResult(at=MONTH + timedelta(minutes=m), ok=rng.random() > 0.001)
            for m in range(44_640)
        ],
        batch_size=5000,
    )
    export = focus_export(resources, rng)
    started = time.perf_counter()
    record = billing_import(actor=None, lines=io.StringIO(export), file_name="bench.csv")
    import_seconds = time.perf_counter() - started

    month = period_containing("month", MONTH)
    now = month.end + timedelta(minutes=5)
    per_metric = {}
    for metric in catalogue.METRICS:
        started = time.perf_counter()
        metric_compute(metric.key, month, now)
        per_metric[metric.key] = time.perf_counter() - started
    started = time.perf_counter()
    metric_snapshots_record(period=month, now=now)
    month_seconds = time.perf_counter() - started

    from django.contrib.auth import get_user_model

    viewer = get_user_model().objects.create(username="viewer", is_superuser=True)
    started = time.perf_counter()
    metrics_overview(user=viewer, period=month, history=12)
    overview_ms = (time.perf_counter() - started) * 1000

    slowest = max(per_metric, key=per_metric.get)
    checks = Checks()
    checks.expect(
        record.row_count == resources * 31, f"{record.row_count} billing rows of {resources * 31}"
    )
    check_against_records(month, checks)
    finish(
        {
            "requests": requests,
            "billing_rows": record.row_count,
            "import_rows_per_s": round(record.row_count / import_seconds),
            "month_seconds": round(month_seconds, 2),
            "slowest_metric": slowest,
            "slowest_seconds": round(per_metric[slowest], 2),
            "overview_ms": round(overview_ms, 1),
        },
        checks,
    )


def check_against_records(month, checks: Checks) -> None:
    """Three stored platform-wide figures against the same quantity computed here from the
    records the benchmark wrote: M2's p95 (submitted → ready, no approval wait), M11 (every
    transition audited: 100 %) and M12's average request rating."""
    import numpy as np
    from django.db.models import Avg

    from catalog.models import RequestTransition
    from metrics.models import MetricSnapshot, SatisfactionRating

    def stored(metric: str) -> float | None:
        found = MetricSnapshot.objects.filter(
            metric=metric, period_start=month.start, team=None, dimension=""
        ).first()
        if found is None:
            return None
        # M12's value is the survey's NPS; the ratings' average is stored beside it.
        return found.extras.get("rating_average") if metric == "M12" else found.value

    at: dict[int, dict[str, datetime]] = {}
    for request_id, state, created in RequestTransition.objects.values_list(
        "request_id", "to_state", "created_at"
    ):
        at.setdefault(request_id, {})[state] = created
    waits = [(t["ready"] - t["submitted"]).total_seconds() for t in at.values()]
    expected = {
        "M2": float(np.percentile(waits, 95)),
        "M11": 1.0,
        "M12": SatisfactionRating.objects.aggregate(mean=Avg("score"))["mean"],
    }
    for metric, value in expected.items():
        found = stored(metric)
        checks.expect(
            found is not None and math.isclose(found, value, rel_tol=1e-9),
            f"{metric}: stored {found}, the records give {value}",
        )


if __name__ == "__main__":
    main()
