"""M1–M12 computed from plain records of one period (no Django imports).

Every function takes plain records (the dataclasses below, built by `metrics.records` from
the database) and returns `Figure`s: one per team and dimension (template, risk tier, policy…),
plus the totals over all teams (`team_id` None) and over all dimensions (`dimension` ""). A
figure whose value cannot be computed (nothing counted) has value None — never a good value.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from metrics import stats

ALL = None  # the team_id of a figure over all teams
DRY_RUN = "dry_run"


@dataclass(frozen=True)
class Figure:
    team_id: int | None
    dimension: str
    value: float | None
    extras: dict = field(default_factory=dict)


def grouped(
    records: Iterable, dimension: Callable[[Any], str], team: Callable[[Any], int | None]
) -> dict[tuple[int | None, str], list]:
    """Records by (team, dimension), each also counted in its team's total (dimension ""), in
    the all-teams figure of its dimension and in the grand total. A record without a team only
    counts in the all-teams figures."""
    groups: dict[tuple[int | None, str], list] = defaultdict(list)
    for record in records:
        team_id, dim = team(record), dimension(record)
        keys: set[tuple[int | None, str]] = {(ALL, ""), (ALL, dim)}
        if team_id is not None:
            keys |= {(team_id, ""), (team_id, dim)}
        for key in keys:
            groups[key].append(record)
    return groups


def _figures(groups: dict, reduce: Callable[[list], tuple[float | None, dict]]) -> list[Figure]:
    figures = []
    for (team_id, dim), members in sorted(
        groups.items(), key=lambda item: (item[0][0] or 0, item[0][1])
    ):
        value, extras = reduce(members)
        figures.append(Figure(team_id, dim, value, extras))
    return figures


def _team(record) -> int | None:
    return record.team_id


def _seconds(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds()


# --- M1 API success rate -------------------------------------------------------------------------


def api_success(successful: float | None, total: float | None) -> list[Figure]:
    """Successful (non-5xx) API requests / all API requests."""
    if total is None:
        return [Figure(ALL, "", None, {"successful": None, "total": None})]
    good = successful or 0.0
    return [
        Figure(
            ALL,
            "",
            stats.ratio(good, total),
            {"successful": good, "total": total, "failed": total - good},
        )
    ]


# --- M2 provisioning latency ---------------------------------------------------------------------


@dataclass(frozen=True)
class Provision:
    """A request that became ready: when it was filed, when it was ready, and how long it waited
    for a human approver in between (0 when approved automatically)."""

    team_id: int
    template: str
    submitted_at: datetime
    ready_at: datetime
    approval_wait: float = 0.0
    request: str = ""

    @property
    def latency(self) -> float:
        """Seconds SSOps took: request to ready, without the wait for an approver (that is M4)."""
        return _seconds(self.submitted_at, self.ready_at) - self.approval_wait

    @property
    def latency_with_wait(self) -> float:
        return _seconds(self.submitted_at, self.ready_at)


def provisioning_latency(provisions: Iterable[Provision]) -> list[Figure]:
    def reduce(members: list[Provision]) -> tuple[float | None, dict]:
        latencies = [p.latency for p in members]
        with_wait = [p.latency_with_wait for p in members]
        return stats.percentile(latencies, 0.95), {
            "count": len(members),
            "median": stats.median(latencies),
            "p95": stats.percentile(latencies, 0.95),
            "median_with_approval_wait": stats.median(with_wait),
            "p95_with_approval_wait": stats.percentile(with_wait, 0.95),
        }

    return _figures(grouped(provisions, lambda p: p.template, _team), reduce)


# --- M3 catalog uptime ---------------------------------------------------------------------------


def catalog_uptime(probes: Sequence[bool], minutes_elapsed: int) -> list[Figure]:
    """Probe minutes that succeeded / minutes probed. Minutes without a probe (no beat running)
    count neither way; `coverage` says how many of the period's minutes were probed."""
    ok = sum(1 for success in probes if success)
    return [
        Figure(
            ALL,
            "",
            stats.ratio(ok, len(probes)),
            {
                "probed_minutes": len(probes),
                "successful_minutes": ok,
                "failed_minutes": len(probes) - ok,
                "minutes": minutes_elapsed,
                "coverage": stats.ratio(len(probes), minutes_elapsed),
            },
        )
    ]


# --- M4 approval turnaround ----------------------------------------------------------------------


@dataclass(frozen=True)
class ApprovalStage:
    """A request's approval stage, which ended in the period: how long it waited for a person
    and how it ended — or that it was approved automatically (it waited for nobody)."""

    team_id: int
    risk_tier: str
    pending_seconds: float
    outcome: str
    request: str = ""
    automatic: bool = False


def approval_turnaround(stages: Iterable[ApprovalStage]) -> list[Figure]:
    """Mean (the value) and p95 of the waits for a person, per risk tier; requests approved
    automatically are only counted (`approved_automatically`): they are no wait."""

    def reduce(members: list[ApprovalStage]) -> tuple[float | None, dict]:
        waited = [s for s in members if not s.automatic]
        waits = [s.pending_seconds for s in waited]
        outcomes: dict[str, int] = defaultdict(int)
        for stage in waited:
            outcomes[stage.outcome] += 1
        return stats.mean(waits), {
            "count": len(waited),
            "mean": stats.mean(waits),
            "p95": stats.percentile(waits, 0.95),
            "approved_automatically": len(members) - len(waited),
            "outcomes": dict(sorted(outcomes.items())),
        }

    return _figures(grouped(stages, lambda s: s.risk_tier, _team), reduce)


# --- M5 policy deny rate -------------------------------------------------------------------------


ENFORCE = "enforce"
DENYING = frozenset({"deny", "error"})  # an enforcing policy that errors denies: it fails closed


@dataclass(frozen=True)
class Decision:
    team_id: int | None
    policy: str
    mode: str
    outcome: str
    request: str = ""  # the catalog request decided on

    @property
    def denies(self) -> bool:
        """This decision, on its own, said no (an error counts: the policy failed closed)."""
        return self.outcome in DENYING


@dataclass(frozen=True)
class RequestDecided:
    """One catalog request and whether an enforcing policy denied it."""

    team_id: int | None
    request: str
    denied: bool


def _deny_rate(members: list[Decision]) -> tuple[float | None, dict]:
    denies = sum(1 for d in members if d.outcome == "deny")
    errors = sum(1 for d in members if d.outcome == "error")
    return stats.ratio(denies, len(members)), {
        "decisions": len(members),
        "denies": denies,
        "errors": errors,
    }


def requests_decided(decisions: Iterable[Decision]) -> list[RequestDecided]:
    """Each request once: denied when any enforcing policy denied it (or failed)."""
    by_request: dict[str, list[Decision]] = defaultdict(list)
    for decision in decisions:
        if decision.mode != DRY_RUN:
            by_request[decision.request].append(decision)
    return [
        RequestDecided(
            found[0].team_id, request, any(d.mode == ENFORCE and d.denies for d in found)
        )
        for request, found in by_request.items()
    ]


def policy_deny_rate(decisions: Iterable[Decision]) -> list[Figure]:
    """Requests denied by an enforcing policy / requests decided on (each request once, however
    many policies denied it; an enforcing policy that failed denied it too), per team; per
    policy, its denies / its decisions (one per request it decided on; errors counted apart).
    Dry-run decisions form their own figures ("<policy> (dry run)", and "(dry run)" over all
    policies), apart from the live ones."""
    decisions = list(decisions)
    live = [d for d in decisions if d.mode != DRY_RUN]
    dry = [d for d in decisions if d.mode == DRY_RUN]

    def per_request(members: list[RequestDecided]) -> tuple[float | None, dict]:
        denied = sum(1 for r in members if r.denied)
        return stats.ratio(denied, len(members)), {"requests": len(members), "denied": denied}

    overall = _figures(grouped(requests_decided(live), lambda r: "", _team), per_request)
    for figure in overall:
        counted = [d for d in live if figure.team_id is None or d.team_id == figure.team_id]
        figure.extras.update(_deny_rate(counted)[1])
    per_policy = _figures(grouped(live, lambda d: d.policy, _team), _deny_rate)
    figures = overall + [f for f in per_policy if f.dimension]
    for figure in _figures(grouped(dry, lambda d: d.policy, _team), _deny_rate):
        dim = f"{figure.dimension} (dry run)" if figure.dimension else "(dry run)"
        figures.append(Figure(figure.team_id, dim, figure.value, figure.extras))
    return sorted(figures, key=lambda f: (f.team_id or 0, f.dimension))


@dataclass(frozen=True)
class DenyCounts:
    """One policy's live (not dry-run) decisions: in the last hour, and in the 7 days before."""

    policy: str
    decisions_hour: int
    denies_hour: int
    decisions_baseline: int
    denies_baseline: int

    @property
    def rate_hour(self) -> float | None:
        return stats.ratio(self.denies_hour, self.decisions_hour)

    @property
    def rate_baseline(self) -> float:
        """The 7-day deny rate; 0 for a policy that decided nothing then (a new one)."""
        return stats.ratio(self.denies_baseline, self.decisions_baseline) or 0.0


def deny_spike(counts: DenyCounts, *, factor: float, minimum: int) -> bool:
    """Whether a policy denies unusually often: at least `minimum` denies in the hour, at a
    rate above `factor` times its 7-day baseline rate."""
    rate = counts.rate_hour
    return (
        counts.denies_hour >= minimum and rate is not None and rate > factor * counts.rate_baseline
    )


# --- M6 automated remediation success and M9 on-call actions -------------------------------------


@dataclass(frozen=True)
class RunbookRunRecord:
    team_id: int | None
    runbook: str
    succeeded: bool
    by_oncall: bool
    run: str = ""


def remediation_success(runs: Iterable[RunbookRunRecord]) -> list[Figure]:
    """Successful runbook runs / runs attempted (finished, successfully or not), per runbook."""

    def reduce(members: list[RunbookRunRecord]) -> tuple[float | None, dict]:
        ok = sum(1 for r in members if r.succeeded)
        return stats.ratio(ok, len(members)), {
            "attempts": len(members),
            "succeeded": ok,
            "failed": len(members) - ok,
        }

    return _figures(grouped(runs, lambda r: r.runbook, _team), reduce)


def oncall_via_ssops(runbook_runs_by_oncall: int, manual_actions_by_oncall: int) -> list[Figure]:
    """Runbook runs by on-call / all on-call actions (those runs plus the manual actions on-call
    logged against incidents)."""
    total = runbook_runs_by_oncall + manual_actions_by_oncall
    return [
        Figure(
            ALL,
            "",
            stats.ratio(runbook_runs_by_oncall, total),
            {
                "runbook_runs": runbook_runs_by_oncall,
                "manual_actions": manual_actions_by_oncall,
                "actions": total,
            },
        )
    ]


# --- M7 error-budget burn ------------------------------------------------------------------------


@dataclass(frozen=True)
class SloBurn:
    """One SLO over one period, from the SLO engine: its burn rate over the period (error ratio
    in the period / error budget) and the budget left in its own window at the period's end."""

    team_id: int
    slo: str
    burn: float | None
    budget_remaining: float | None
    data_status: str


def error_budget_burn(burns: Iterable[SloBurn]) -> list[Figure]:
    """Per SLO its burn over the period; over several SLOs the mean burn of those with data
    (each SLO weighs the same), how many burned faster than their budget allows (burn > 1), and
    the worst."""

    def reduce(members: list[SloBurn]) -> tuple[float | None, dict]:
        measured = [(b.burn, b.slo) for b in members if b.burn is not None]
        worst = max(measured, default=None)
        extras = {
            "slos": len(members),
            "with_data": len(measured),
            "over_budget_pace": sum(1 for burn, _ in measured if burn > 1),
            "worst": worst[1] if worst else None,
            "worst_burn": worst[0] if worst else None,
        }
        if len(members) == 1:
            extras.update(
                budget_remaining=members[0].budget_remaining, data_status=members[0].data_status
            )
        return stats.mean(burn for burn, _ in measured), extras

    return _figures(grouped(burns, lambda b: b.slo, _team), reduce)


# --- M8 cost per provision -----------------------------------------------------------------------

BY_TAGS = "(by tags, no template)"


@dataclass(frozen=True)
class Charge:
    """A billing row's EffectiveCost, attributed to a team (and a template when it was joined to
    a resource by ResourceId), or to nobody (team_id None: no owner)."""

    team_id: int | None
    template: str
    cost: Decimal
    currency: str
    joined_by: str = ""  # "resource", "owner tag", "cost-center tag" or "" (not joined)
    resource_id: str = ""


def _money(costs: Iterable[Charge | Orphan]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for charge in costs:
        totals[charge.currency] += charge.cost
    return dict(totals)


def cost_per_provision(charges: Iterable[Charge], provisions: Iterable[Provision]) -> list[Figure]:
    """EffectiveCost attributed in the period / requests that became ready in it, per template
    and team. Costs with no owner are left out (they are M10); costs joined by tags only count
    for their team as a whole (`(by tags, no template)`)."""
    owned = [c for c in charges if c.team_id is not None]
    cost_groups = grouped(owned, lambda c: c.template or BY_TAGS, _team)
    provision_groups = grouped(provisions, lambda p: p.template, _team)
    figures = []
    for key in sorted(set(cost_groups) | set(provision_groups), key=lambda k: (k[0] or 0, k[1])):
        costs = _money(cost_groups.get(key, []))
        count = len(provision_groups.get(key, []))
        extras: dict = {"provisions": count, "costs": {c: str(v) for c, v in costs.items()}}
        value = None
        if len(costs) == 1:
            ((currency, amount),) = costs.items()
            extras.update(cost=str(amount), currency=currency)
            value = float(amount) / count if count else None
        figures.append(Figure(key[0], key[1], value, extras))
    return figures


# --- M10 aged resources --------------------------------------------------------------------------

PAST_EXPIRY = "past expiry"
ORPHAN_SCAN = "orphan scan"
NO_OWNER = "billing rows with no owner"
DAY_SECONDS = 86400.0


@dataclass(frozen=True)
class Orphan:
    """A resource that outlived its purpose: past its expiry, or orphaned (named by the orphan
    scan, or billed with no owner); its age (since its expiry, or since it was first found or
    billed) and what it was billed in the period (one per billing row)."""

    team_id: int | None
    source: str  # PAST_EXPIRY, ORPHAN_SCAN or NO_OWNER
    resource_id: str
    cost: Decimal = Decimal(0)
    currency: str = ""
    age_seconds: float = 0.0


def orphaned_resources(orphans: Iterable[Orphan]) -> list[Figure]:
    """Distinct aged resources, their age (oldest and median, in days) and what they cost in
    the period, per team and source."""

    def reduce(members: list[Orphan]) -> tuple[float | None, dict]:
        ages: dict[str, float] = {}
        for orphan in members:
            ages[orphan.resource_id] = max(ages.get(orphan.resource_id, 0.0), orphan.age_seconds)
        costs = _money(o for o in members if o.currency)
        days = [age / DAY_SECONDS for age in ages.values()]
        return float(len(ages)), {
            "resources": len(ages),
            "oldest_days": max(days, default=None),
            "median_age_days": stats.median(days),
            "costs": {c: str(v) for c, v in costs.items()},
        }

    return _figures(grouped(orphans, lambda o: o.source, _team), reduce)


# --- M11 audit completeness ----------------------------------------------------------------------

MAX_GAPS_LISTED = 50


@dataclass(frozen=True)
class TransitionCheck:
    """One state transition (of a request, run, resource or approval) and whether the audit
    store holds its event; `problem` names the gap."""

    kind: str
    team_id: int | None
    record: str
    audited: bool
    problem: str = ""


def audit_completeness(checks: Iterable[TransitionCheck]) -> list[Figure]:
    def reduce(members: list[TransitionCheck]) -> tuple[float | None, dict]:
        gaps = [c.problem for c in members if not c.audited]
        return stats.ratio(len(members) - len(gaps), len(members)), {
            "transitions": len(members),
            "audited": len(members) - len(gaps),
            "missing": len(gaps),
            "gaps": gaps[:MAX_GAPS_LISTED],
        }

    return _figures(grouped(checks, lambda c: c.kind, _team), reduce)


# --- M12 user satisfaction -----------------------------------------------------------------------


@dataclass(frozen=True)
class Rating:
    """A requester's 1–5 rating of a finished request."""

    team_id: int
    score: int


@dataclass(frozen=True)
class SurveyAnswer:
    """One answer (0–10) to the survey, with the teams of the person who gave it."""

    team_ids: tuple[int, ...]
    score: int


def user_satisfaction(
    answers: Iterable[SurveyAnswer], ratings: Iterable[Rating] = ()
) -> list[Figure]:
    """The NPS of the survey answers (the value), per team — an answer counts once in the
    all-teams figure and once for each team of the person — with the average request rating
    beside it."""
    by_key: dict[int | None, tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
    for answer in answers:
        for team_id in {ALL, *answer.team_ids}:
            by_key[team_id][0].append(answer.score)
    for rating in ratings:
        for team_id in {ALL, rating.team_id}:
            by_key[team_id][1].append(rating.score)
    figures = []
    for team_id in sorted(by_key, key=lambda t: t or 0):
        scores, rated = by_key[team_id]
        found = stats.nps(scores)
        extras = {**found, "rating_average": stats.mean(rated), "ratings": len(rated)}
        figures.append(Figure(team_id, "", found["nps"], extras))
    return figures


# --- incidents: MTTA and MTTR ---------------------------------------------------------------------


@dataclass(frozen=True)
class IncidentTimes:
    """One incident's times: impact began, opened, acknowledged, resolved."""

    started: datetime
    opened: datetime
    acknowledged: datetime | None
    resolved: datetime | None


@dataclass(frozen=True)
class PeriodIncidents:
    start: datetime
    end: datetime
    opened: int
    acknowledged: int
    resolved: int
    mtta: float | None  # seconds, mean of (acknowledged − opened) over those acknowledged in it
    mttr: float | None  # seconds, mean of (resolved − impact began) over those resolved in it


def incident_periods(
    incidents: Iterable[IncidentTimes], periods: Sequence[tuple[datetime, datetime]]
) -> list[PeriodIncidents]:
    """MTTA and MTTR per period [start, end): an incident counts for MTTA in the period it was
    acknowledged in and for MTTR in the period it was resolved in."""
    incidents = list(incidents)
    found = []
    for start, end in periods:
        acked = [i for i in incidents if i.acknowledged and start <= i.acknowledged < end]
        resolved = [i for i in incidents if i.resolved and start <= i.resolved < end]
        found.append(
            PeriodIncidents(
                start,
                end,
                sum(1 for i in incidents if start <= i.opened < end),
                len(acked),
                len(resolved),
                stats.mean(_seconds(i.opened, i.acknowledged) for i in acked),
                stats.mean(_seconds(i.started, i.resolved) for i in resolved),
            )
        )
    return found
