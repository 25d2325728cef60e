"""The alert on a spike of policy denies (beat, every 5 minutes): a policy that over the last
hour denies at more than SSOPS_DENY_SPIKE_FACTOR times its deny rate of the 7 days before, with
at least SSOPS_DENY_SPIKE_MIN_DENIES denies in the hour, opens a ticket for the platform team
(`PolicyDenySpike`, with the policy) linking to M5, where its deny rate is broken down. Dry-run
decisions never count and a policy in dry run never alerts: they block nothing. The ticket
resolves once the hour no longer spikes."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q
from django.urls import reverse

from catalog.choices import DecisionOutcome, PolicyMode
from catalog.models import Policy, PolicyDecision
from metrics.calculations import DenyCounts, deny_spike
from slo.choices import Severity
from slo.services import platform_alert_raise, platform_alert_resolve, platform_alerts_firing

ALERT_NAME = "PolicyDenySpike"
SERVICE = "ssops-policy"
HOUR = timedelta(hours=1)
BASELINE = timedelta(days=7)


def deny_counts(*, now: datetime) -> list[DenyCounts]:
    """Each live policy's decisions and denies in the last hour and the 7 days before (one
    query)."""
    hour = now - HOUR
    deny = Q(outcome=DecisionOutcome.DENY)
    recent, before = Q(created_at__gte=hour), Q(created_at__lt=hour)
    rows = (
        PolicyDecision.objects.filter(created_at__gte=hour - BASELINE, created_at__lt=now)
        .exclude(mode=PolicyMode.DRY_RUN)
        .values("policy_version__policy__slug")
        .annotate(
            decisions_hour=Count("id", filter=recent),
            denies_hour=Count("id", filter=recent & deny),
            decisions_baseline=Count("id", filter=before),
            denies_baseline=Count("id", filter=before & deny),
        )
        .order_by("policy_version__policy__slug")
    )
    return [
        DenyCounts(
            row["policy_version__policy__slug"],
            row["decisions_hour"],
            row["denies_hour"],
            row["decisions_baseline"],
            row["denies_baseline"],
        )
        for row in rows
    ]


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def policy_deny_spikes_evaluate(*, now: datetime) -> dict[str, bool]:
    """Raise the ticket of each policy that spikes, resolve those that no longer do; returns
    each policy seen and whether it spikes."""
    dry = set(
        Policy.objects.filter(current_version__mode=PolicyMode.DRY_RUN).values_list(
            "slug", flat=True
        )
    )
    factor, minimum = settings.DENY_SPIKE_FACTOR, settings.DENY_SPIKE_MIN_DENIES
    seen: dict[str, bool] = {}
    for counts in deny_counts(now=now):
        spiking = counts.policy not in dry and deny_spike(counts, factor=factor, minimum=minimum)
        seen[counts.policy] = spiking
        if not spiking:
            continue
        platform_alert_raise(
            key=f"policy-deny-spike:{counts.policy}",
            alertname=ALERT_NAME,
            severity=Severity.TICKET,
            team=settings.PLATFORM_TEAM,
            service=SERVICE,
            labels={"policy": counts.policy},
            summary=f"Policy {counts.policy} denies far more often than usual",
            description=(
                f"{counts.denies_hour} of {counts.decisions_hour} decisions denied in the last "
                f"hour ({_percent(counts.rate_hour)}), against {_percent(counts.rate_baseline)} "
                f"over the 7 days before ({counts.denies_baseline} of "
                f"{counts.decisions_baseline}); the alert fires above {factor}x that rate with "
                f"at least {minimum} denies."
            ),
            url=f"{reverse('metrics:metric-detail', args=['M5'])}?period=day",
            at=now,
        )
    for alert in platform_alerts_firing(alertname=ALERT_NAME):
        policy = alert.labels.get("policy", "")
        if not seen.get(policy):
            platform_alert_resolve(
                key=alert.key, reason="its deny rate over the last hour is back to usual", at=now
            )
    return seen
