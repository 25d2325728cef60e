"""What each platform metric means: the definition shown next to it, its source, its unit, its
target and the dimension it is broken down by. No Django imports."""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass

RATIO, SECONDS, MONEY, COUNT, BURN, NPS = "ratio", "seconds", "money", "count", "burn", "nps"
PLATFORM, TEAM = "platform", "team"  # platform: one figure for SSOps; team: per team and total
UP, DOWN = "up", "down"

_OPS = {"≥": operator.ge, ">": operator.gt, "≤": operator.le, "<": operator.lt}


@dataclass(frozen=True)
class Target:
    """A threshold the figure must meet."""

    op: str
    threshold: float
    text: str
    dimension: str = ""  # the figure it applies to ("" = the overall one)

    def met(self, value: float | None, earlier: Sequence[float | None] = ()) -> bool | None:
        return None if value is None else _OPS[self.op](value, self.threshold)


@dataclass(frozen=True)
class Trend:
    """A direction the figure must keep: met when it is at least (up) or at most (down) the
    mean of the `periods` periods before it that have a value."""

    direction: str
    periods: int
    text: str
    dimension: str = ""

    def met(self, value: float | None, earlier: Sequence[float | None] = ()) -> bool | None:
        before = [v for v in earlier if v is not None][-self.periods :]
        if value is None or not before:
            return None
        baseline = math.fsum(before) / len(before)
        return value >= baseline if self.direction == UP else value <= baseline


@dataclass(frozen=True)
class Metric:
    key: str
    slug: str
    title: str
    question: str
    definition: str
    formula: str  # in words: what is divided by what
    source: str
    unit: str
    value_label: str
    scope: str
    dimension: str = ""
    target: Target | Trend | None = None
    # A definition that changed is a new version: figures of older versions are never shown
    # beside the new ones (platform_metrics --recompute computes them again).
    version: int = 1
    changed: str = ""  # what the current version changed

    def verdict(self, value: float | None, earlier: Sequence[float | None] = ()) -> bool | None:
        """Whether a figure (the one the target or trend applies to) meets it; None when there
        is no rule or nothing to judge by."""
        return None if self.target is None else self.target.met(value, earlier)


METRICS: tuple[Metric, ...] = (
    Metric(
        "M1",
        "api-success-rate",
        "API success rate",
        "Reliable: does the API answer?",
        "Successful SSOps API requests (any status but 5xx) ÷ all SSOps API requests (every view "
        "under /api/) in the period.",
        "successful API requests ÷ all API requests",
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
        "95th percentile of (ready − submitted − wait for an approver) over the requests made "
        "ready",
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
        "probed minutes that succeeded ÷ probed minutes",
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
        "For each request that waited for a person and whose wait ended in the period "
        "(approved, rejected, expired or cancelled while pending approval): the time it waited. "
        "Mean and p95, by risk tier. Requests approved automatically waited for nobody: they "
        "are counted apart and change the figures by nothing.",
        "mean of (left pending approval − entered it) over the requests that waited for a person",
        "Catalog request timelines (RequestTransition into and out of pending_approval).",
        SECONDS,
        "mean",
        TEAM,
        "risk tier",
        Target("<", 1800, "mean < 30 min for low risk", dimension="low"),
        version=2,
        changed="requests approved automatically no longer count as waits of 0 s",
    ),
    Metric(
        "M5",
        "policy-deny-rate",
        "Policy deny rate",
        "Trusted: how often does policy say no?",
        "Catalog requests denied by policy ÷ catalog requests the policies decided on in the "
        "period: a request denied by any enforcing policy (or one that failed, as policies fail "
        "closed) counts once, however many policies denied it. Per policy: the requests it "
        "denied ÷ the requests it decided on (its errors counted apart). Dry-run decisions are "
        "counted apart (marked “dry run”): they never block a request.",
        "requests denied by at least one enforcing policy ÷ requests the policies decided on",
        "Stored policy decisions (PolicyDecision) of catalog requests.",
        RATIO,
        "deny rate",
        TEAM,
        "policy",
        Target("<", 0.05, "< 5 % (low single digits)"),
        version=2,
        changed="per request, not per policy decision (four policies denying one request "
        "make one deny)",
    ),
    Metric(
        "M6",
        "remediation-success",
        "Automated remediation success",
        "Reliable: do runbooks fix things?",
        "Runbook runs that succeeded ÷ runbook runs attempted (finished, successfully or not) "
        "in the period, per runbook.",
        "runbook runs that succeeded ÷ runbook runs that finished",
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
        "error ratio in the period ÷ (1 − objective), the mean over the SLOs with data",
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
        "EffectiveCost attributed ÷ requests made ready",
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
        "runbook runs by on-call ÷ (those runs + manual actions on-call logged)",
        "Runbook runs of the provisioning engine and manual on-call actions (OncallAction).",
        RATIO,
        "via SSOps",
        PLATFORM,
        target=Trend(UP, 4, "rising: at least the mean of the 4 periods before"),
    ),
    Metric(
        "M10",
        "aged-resources",
        "Aged resources",
        "Cheap: what outlives its purpose?",
        "Distinct resources, at the end of the period (or now), that are past their expiry — "
        "not deleted an hour after their TTL ran out — or orphaned for more than "
        "SSOPS_ORPHAN_AGE_DAYS days (7 unless set): named by the orphan scan, or billed with no "
        "owner (a ResourceId that matches no SSOps resource and no owner or cost-center tag "
        "naming a team) since its first bill; each with its age and its EffectiveCost in the "
        "period, per team and source.",
        "resources past their expiry + resources orphaned for more than N days",
        "Resources and the orphan scan of the provisioning engine, imported FOCUS billing rows.",
        COUNT,
        "resources",
        TEAM,
        "source",
        Target("≤", 0, "0: nothing outlives its expiry or stays orphaned"),
        version=2,
        changed="aged resources (past their expiry, or orphaned for more than N days) with "
        "their age, instead of every orphan finding",
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
        "transitions with their audit event ÷ all transitions",
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
        "User satisfaction (NPS)",
        "Liked: would people recommend SSOps?",
        "The Net Promoter Score of the survey SSOps asks in its web UI, once a quarter, of each "
        "active user (“How likely are you to recommend SSOps to a colleague?”, 0–10; it can be "
        "dismissed): the share of promoters (9–10) minus the share of detractors (0–6) among "
        "the answers given in the period, from −100 to 100; an answer counts for each team of "
        "the person. Beside it, the average of the 1–5 ratings requesters gave their finished "
        "requests.",
        "% of answers 9–10 − % of answers 0–6",
        "Survey answers (NpsAnswer) and request ratings (SatisfactionRating).",
        NPS,
        "NPS",
        TEAM,
        target=Target(">", 0, "above 0 (more promoters than detractors)"),
        version=2,
        changed="a 0–10 survey and the standard NPS, instead of the 1–5 request rating",
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
