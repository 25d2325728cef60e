"""What each platform metric means: the definition shown next to it, its source, its unit, its
target and the dimension it is broken down by. No Django imports."""

from __future__ import annotations

import operator
from dataclasses import dataclass

RATIO, SECONDS, MONEY, COUNT, BURN, SCORE = "ratio", "seconds", "money", "count", "burn", "score"
PLATFORM, TEAM = "platform", "team"  # platform: one figure for SSOps; team: per team and total

_OPS = {"≥": operator.ge, ">": operator.gt, "≤": operator.le, "<": operator.lt}


@dataclass(frozen=True)
class Target:
    op: str
    threshold: float
    text: str
    dimension: str = ""  # the figure it applies to ("" = the overall one)

    def met(self, value: float | None) -> bool | None:
        return None if value is None else _OPS[self.op](value, self.threshold)


@dataclass(frozen=True)
class Metric:
    key: str
    slug: str
    title: str
    question: str
    definition: str
    source: str
    unit: str
    value_label: str
    scope: str
    dimension: str = ""
    target: Target | None = None


METRICS: tuple[Metric, ...] = (
    Metric(
        "M1",
        "api-success-rate",
        "API success rate",
        "Reliable: does the API answer?",
        "Successful SSOps API requests (any status but 5xx) ÷ all SSOps API requests (every view "
        "under /api/) in the period.",
        'increase(ssops_http_requests_total{view=~"api:.*"}) in Prometheus at PROMETHEUS_URL; '
        "without one, SSOps's own per-minute request counts (same labels).",
        RATIO,
        "success rate",
        PLATFORM,
        target=Target("≥", 0.999, "≥ 99.9 %"),
    ),
    Metric(
        "M2",
        "provisioning-latency",
        "Provisioning latency",
        "Fast: how long from request to ready?",
        "For each request that became ready in the period: time from its submission to ready, "
        "less the time it waited for a human approver (that wait is M4). Median and p95 (linear "
        "interpolation), per template; the figures with the approval wait are shown as well.",
        "Catalog request timelines (RequestTransition: submitted, pending_approval, ready).",
        SECONDS,
        "p95",
        TEAM,
        "template",
        Target("<", 120, "p95 < 2 min"),
    ),
    Metric(
        "M3",
        "catalog-uptime",
        "Catalog uptime",
        "Reliable: can people use the catalog?",
        "A synthetic probe (beat, every minute) lists the catalog and opens a template through "
        "the API as a user would; uptime = minutes whose probe succeeded ÷ minutes probed. "
        "Minutes without a probe count neither way (coverage shows how many were probed).",
        "Probe results stored each minute (ProbeResult).",
        RATIO,
        "uptime",
        PLATFORM,
        target=Target("≥", 0.9995, "≥ 99.95 %"),
    ),
    Metric(
        "M4",
        "approval-turnaround",
        "Approval turnaround",
        "Fast: how long do requests wait for approval?",
        "For each request whose approval stage ended in the period (approved, rejected, expired "
        "or cancelled while pending): time spent pending approval, 0 when approved "
        "automatically. Mean and p95, by risk tier.",
        "Catalog request timelines (RequestTransition into and out of pending_approval).",
        SECONDS,
        "mean",
        TEAM,
        "risk tier",
        Target("<", 1800, "mean < 30 min for low risk", dimension="low"),
    ),
    Metric(
        "M5",
        "policy-deny-rate",
        "Policy deny rate",
        "Trusted: how often does policy say no?",
        "Policy decisions that denied ÷ all policy decisions in the period, per policy. "
        "Dry-run decisions are counted apart (marked “dry run”): they never block a request.",
        "Stored policy decisions (PolicyDecision).",
        RATIO,
        "deny rate",
        TEAM,
        "policy",
    ),
    Metric(
        "M6",
        "remediation-success",
        "Automated remediation success",
        "Reliable: do runbooks fix things?",
        "Runbook runs that succeeded ÷ runbook runs attempted (finished, successfully or not) "
        "in the period, per runbook.",
        "Runbook runs of the provisioning engine.",
        RATIO,
        "success rate",
        TEAM,
        "runbook",
        Target(">", 0.8, "> 80 %"),
    ),
    Metric(
        "M7",
        "error-budget-burn",
        "Error-budget burn",
        "Reliable: are services within their SLOs?",
        "Per SLO, its burn rate over the period as the SLO engine computes it: error ratio in "
        "the period ÷ error budget (1 − objective); 1 spends the budget exactly at the pace the "
        "window allows. Across SLOs: the mean burn of the SLOs with data, and how many burned "
        "faster than 1×. The budget left in each SLO's own window at the period's end is shown.",
        "The SLO engine over each SLO's source (Prometheus or SSOps records), for the period.",
        BURN,
        "burn",
        TEAM,
        "SLO",
        Target("≤", 1.0, "≤ 1× (within budget)"),
    ),
    Metric(
        "M8",
        "cost-per-provision",
        "Cost per provision",
        "Cheap: what does a provision cost?",
        "FOCUS EffectiveCost charged in the period (by ChargePeriodStart), joined to SSOps "
        "resources by ResourceId, else to a team by the owner tag (owner, team or ssops-team) "
        "or the cost-center tag, ÷ requests that became ready in the period, per template and "
        "team. Costs joined by tags only count for their team as a whole.",
        "Imported FOCUS billing rows (billing_import) and catalog request timelines.",
        MONEY,
        "cost per provision",
        TEAM,
        "template",
    ),
    Metric(
        "M9",
        "oncall-via-ssops",
        "On-call actions via SSOps",
        "Trusted: does on-call act through SSOps?",
        "Runbook runs started by on-call ÷ all on-call actions in the period: those runs plus "
        "the manual actions on-call logged against incidents.",
        "Runbook runs of the provisioning engine and manual on-call actions (OncallAction).",
        RATIO,
        "via SSOps",
        PLATFORM,
    ),
    Metric(
        "M10",
        "orphaned-resources",
        "Orphaned resources",
        "Cheap: what runs that nobody owns?",
        "Distinct orphaned resources and their EffectiveCost in the period, per team: those the "
        "orphan scan found, and billed resources with no owner (a ResourceId that matches no "
        "SSOps resource and no owner or cost-center tag naming a team).",
        "The orphan scan of the provisioning engine and imported FOCUS billing rows.",
        COUNT,
        "resources",
        TEAM,
        "source",
    ),
    Metric(
        "M11",
        "audit-completeness",
        "Audit completeness",
        "Trusted: is every change in the audit store?",
        "State transitions of requests, provisioning runs and their steps, resources and "
        "runbook runs, and approvals (of requests and runbook runs), made in the period, that "
        "have their audit event ÷ all of them. The reconciliation job names every gap "
        "(transition, expected event, what was found).",
        "The timelines of the catalog and the provisioning engine (their rows' audit_seq) "
        "against the audit store.",
        RATIO,
        "audited",
        TEAM,
        "kind",
        Target("≥", 1.0, "100 %"),
    ),
    Metric(
        "M12",
        "user-satisfaction",
        "User satisfaction",
        "Liked: are requesters happy?",
        "Ratings (1–5, with an optional comment) requesters gave when their request finished, "
        "in the period: the average, and an NPS-style score = (ratings of 5 − ratings of 1 to "
        "3) ÷ ratings × 100.",
        "Ratings given on the request page or through the API (SatisfactionRating).",
        SCORE,
        "average",
        TEAM,
    ),
)

BY_KEY = {metric.key: metric for metric in METRICS}
BY_SLUG = {metric.slug: metric for metric in METRICS}


def metric_lookup(key: str) -> Metric:
    """A metric by key (M1) or slug (api-success-rate); KeyError when there is none."""
    found = BY_KEY.get(key.upper()) or BY_SLUG.get(key.lower())
    if found is None:
        raise KeyError(key)
    return found
