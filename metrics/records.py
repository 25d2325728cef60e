"""The records each platform metric is computed from, read from the database as the plain
values of `metrics.calculations` — one function per metric and period, a few queries each."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import F, Min, Model, Q, Value
from django.db.models.functions import Coalesce

from audit.models import AuditEvent
from catalog.choices import ApprovalDecision, RequestState
from catalog.models import Approval, PolicyDecision, RequestTransition
from metrics import calculations as calc
from metrics.calculations import (
    ApprovalStage,
    Charge,
    Decision,
    Orphan,
    Provision,
    Rating,
    TransitionCheck,
)
from provisioning.models import (
    OrphanFinding,
    Resource,
    ResourceTransition,
    RunbookApproval,
    RunbookRun,
    RunbookRunTransition,
    RunTransition,
)
from teams.models import Team


def _in(period_field: str, start: datetime, end: datetime) -> Q:
    return Q(**{f"{period_field}__gte": start, f"{period_field}__lt": end})


# --- catalog timelines (M2, M4, M8) --------------------------------------------------------------


def _approval_waits(request_ids) -> dict[int, float]:
    """Seconds each request spent in pending_approval (all its stays, usually one)."""
    entered: dict[int, datetime] = {}
    waits: dict[int, float] = defaultdict(float)
    rows = (
        RequestTransition.objects.filter(request_id__in=request_ids)
        .filter(
            Q(to_state=RequestState.PENDING_APPROVAL) | Q(from_state=RequestState.PENDING_APPROVAL)
        )
        .order_by("id")
        .values_list("request_id", "from_state", "to_state", "created_at")
    )
    for request_id, from_state, to_state, at in rows:
        if to_state == RequestState.PENDING_APPROVAL:
            entered[request_id] = at
        elif from_state == RequestState.PENDING_APPROVAL and request_id in entered:
            waits[request_id] += (at - entered.pop(request_id)).total_seconds()
    return waits


def provisions(start: datetime, end: datetime) -> list[Provision]:
    """Requests that became ready in [start, end)."""
    ready = list(
        RequestTransition.objects.filter(_in("created_at", start, end), to_state=RequestState.READY)
        .order_by("id")
        .values_list(
            "request_id",
            "created_at",
            "request__team_id",
            "request__template_version__template__slug",
            "request__created_at",
            "request__uuid",
        )
    )
    waits = _approval_waits([row[0] for row in ready])
    return [
        Provision(team_id, template, submitted, at, waits.get(request_id, 0.0), str(uuid))
        for request_id, at, team_id, template, submitted, uuid in ready
    ]


LEAVES_APPROVAL = Q(from_state=RequestState.PENDING_APPROVAL) | Q(
    from_state=RequestState.SUBMITTED, to_state=RequestState.APPROVED
)


def approval_stages(start: datetime, end: datetime) -> list[ApprovalStage]:
    """Approval stages that ended in [start, end): left pending_approval, or approved at once."""
    ended = list(
        RequestTransition.objects.filter(_in("created_at", start, end))
        .filter(LEAVES_APPROVAL)
        .order_by("id")
        .values_list(
            "request_id",
            "from_state",
            "to_state",
            "created_at",
            "request__team_id",
            "request__risk_tier",
            "request__uuid",
        )
    )
    waited = [row[0] for row in ended if row[1] == RequestState.PENDING_APPROVAL]
    entered = dict(
        RequestTransition.objects.filter(
            request_id__in=waited, to_state=RequestState.PENDING_APPROVAL
        ).values_list("request_id", "created_at")
    )
    stages = []
    for request_id, from_state, to_state, at, team_id, tier, uuid in ended:
        waited = from_state == RequestState.PENDING_APPROVAL
        since = entered.get(request_id, at) if waited else at
        seconds = (at - since).total_seconds()
        stages.append(ApprovalStage(team_id, tier, seconds, to_state, str(uuid), not waited))
    return stages


# --- policy decisions (M5) -----------------------------------------------------------------------


def decisions(start: datetime, end: datetime) -> list[Decision]:
    """The policy decisions on catalog requests made in [start, end) (a runbook run's are not
    a request's)."""
    rows = (
        PolicyDecision.objects.filter(_in("created_at", start, end), request__isnull=False)
        .order_by("id")
        .values_list(
            "request__team_id", "policy_version__policy__slug", "mode", "outcome", "request__uuid"
        )
    )
    return [
        Decision(team_id, policy, mode, outcome, str(uuid))
        for team_id, policy, mode, outcome, uuid in rows.iterator()
    ]


# --- probes (M3), ratings (M12), manual on-call actions (M9) -------------------------------------


def probe_outcomes(start: datetime, end: datetime) -> list[bool]:
    from metrics.models import ProbeResult

    return list(ProbeResult.objects.filter(_in("at", start, end)).values_list("ok", flat=True))


def ratings(start: datetime, end: datetime) -> list[Rating]:
    from metrics.models import SatisfactionRating

    rows = SatisfactionRating.objects.filter(_in("created_at", start, end))
    return [Rating(*row) for row in rows.values_list("team_id", "score")]


def survey_answers(start: datetime, end: datetime) -> list[calc.SurveyAnswer]:
    """Survey answers given in [start, end) (dismissals are no answer), with the teams of the
    person when they answered."""
    from metrics.models import SurveyAnswer

    answers = SurveyAnswer.objects.filter(_in("answered_at", start, end), score__isnull=False)
    return [
        calc.SurveyAnswer(tuple(sorted(t.pk for t in answer.teams.all())), answer.score)
        for answer in answers.prefetch_related("teams").order_by("id")
    ]


def manual_oncall_actions(start: datetime, end: datetime) -> int:
    from metrics.models import OncallAction

    return OncallAction.objects.filter(_in("performed_at", start, end), by_oncall=True).count()


def runbook_runs(start: datetime, end: datetime) -> list[calc.RunbookRunRecord]:
    """Runbook runs that finished (succeeded or failed) in [start, end) (M6)."""
    rows = RunbookRun.objects.filter(
        _in("finished_at", start, end), state__in=("succeeded", "failed")
    ).values_list("uuid", "team_id", "runbook__slug", "state", "by_oncall")
    return [
        calc.RunbookRunRecord(team_id, runbook, state == "succeeded", by_oncall, str(uuid))
        for uuid, team_id, runbook, state, by_oncall in rows.order_by("finished_at", "id")
    ]


def oncall_runbook_runs(start: datetime, end: datetime) -> list[calc.RunbookRunRecord]:
    """Runbook runs on-call started in [start, end), however they ended (M9)."""
    rows = RunbookRun.objects.filter(_in("started_at", start, end), by_oncall=True).values_list(
        "uuid", "team_id", "runbook__slug", "state"
    )
    return [
        calc.RunbookRunRecord(team_id, runbook, state == "succeeded", True, str(uuid))
        for uuid, team_id, runbook, state in rows.order_by("started_at", "id")
    ]


# --- billing (M8, M10, budgets) ------------------------------------------------------------------


@dataclass(frozen=True)
class Attribution:
    team_id: int | None
    template: str
    joined_by: str


class Owners:
    """Who a billing row belongs to: the resource with its ResourceId (provisioning engine),
    else the team its owner tag names (by slug), else the team with its cost-center tag."""

    def __init__(self, resources: dict[str, tuple[int, str]] | None = None):
        teams = list(Team.objects.values_list("id", "slug", "cost_center"))
        self.by_slug = {slug.lower(): pk for pk, slug, _ in teams}
        self.by_cost_center = {cc.lower(): pk for pk, _, cc in teams if cc}
        self.resources = resources if resources is not None else known_resources()

    def of(self, resource_id: str, owner: str, cost_center: str) -> Attribution:
        if resource_id and resource_id in self.resources:
            team_id, template = self.resources[resource_id]
            return Attribution(team_id, template, "resource")
        if owner and owner.lower() in self.by_slug:
            return Attribution(self.by_slug[owner.lower()], "", "owner tag")
        if cost_center and cost_center.lower() in self.by_cost_center:
            return Attribution(self.by_cost_center[cost_center.lower()], "", "cost-center tag")
        return Attribution(None, "", "")


def known_resources() -> dict[str, tuple[int, str]]:
    """ResourceId (the resource's external id) → (owner team, template) of every resource SSOps
    provisioned, deleted ones included (their last bills come later)."""
    rows = Resource.objects.exclude(external_id="").values_list(
        "external_id", "team_id", "template_version__template__slug"
    )
    return {external_id: (team_id, template) for external_id, team_id, template in rows}


BILLING_FIELDS = ("resource_id", "owner", "cost_center", "effective_cost", "billing_currency")


def charges(start: datetime, end: datetime, owners: Owners | None = None) -> list[Charge]:
    """EffectiveCost of the billing rows charged in [start, end) (by ChargePeriodStart)."""
    from metrics.models import BillingRow

    owners = owners or Owners()
    found = []
    rows = BillingRow.objects.filter(_in("charge_period_start", start, end))
    for resource_id, owner, cost_center, cost, currency in rows.values_list(
        *BILLING_FIELDS
    ).iterator():
        who = owners.of(resource_id, owner, cost_center)
        found.append(Charge(who.team_id, who.template, cost, currency, who.joined_by, resource_id))
    return found


EXPIRY_GRACE = timedelta(hours=1)  # teardown after expiry takes minutes, not an hour


def orphans(
    start: datetime, end: datetime, at: datetime, owners: Owners | None = None
) -> list[Orphan]:
    """Resources that have outlived their purpose at `at` (the end of [start, end), or now),
    with their age and what they were billed in [start, end): past their expiry by more than
    an hour and not deleted, named by the orphan scan for more than SSOPS_ORPHAN_AGE_DAYS, and
    billed with no owner since that long (those the scan named are its)."""
    from django.conf import settings

    from metrics.models import BillingRow

    aged_since = at - timedelta(days=settings.ORPHAN_AGE_DAYS)
    billed = charges(start, end, owners)
    costs: dict[str, list[Charge]] = defaultdict(list)
    for charge in billed:
        if charge.resource_id:
            costs[charge.resource_id].append(charge)

    def with_costs(team_id, source: str, resource_id: str, age: float) -> list[Orphan]:
        found = [
            Orphan(team_id, source, resource_id, c.cost, c.currency, age)
            for c in costs.get(resource_id, [])
        ]
        return found or [Orphan(team_id, source, resource_id, age_seconds=age)]

    found: list[Orphan] = []
    expired = (
        Resource.objects.filter(created_at__lt=at, expires_at__lt=at - EXPIRY_GRACE)
        .filter(Q(deleted_at__isnull=True) | Q(deleted_at__gt=at))
        .order_by("id")
        .values_list("team_id", "external_id", "uuid", "expires_at")
    )
    for team_id, external_id, uuid, expires_at in expired:
        age = (at - expires_at).total_seconds()
        found += with_costs(team_id, calc.PAST_EXPIRY, external_id or f"resource:{uuid}", age)
    open_then = OrphanFinding.objects.filter(first_seen_at__lte=aged_since).filter(
        Q(resolved_at__isnull=True) | Q(resolved_at__gt=at)
    )
    rows = open_then.values_list(
        "team_id", "backend", "name", "resource__external_id", "details", "first_seen_at"
    )
    for team_id, backend, name, external_id, details, first_seen in rows.order_by("id"):
        resource_id = external_id or (details or {}).get("external_id") or f"{backend}:{name}"
        found += with_costs(
            team_id, calc.ORPHAN_SCAN, resource_id, (at - first_seen).total_seconds()
        )
    named = {orphan.resource_id for orphan in found}
    unowned = {
        c.resource_id
        for c in billed
        if c.team_id is None and c.resource_id and c.resource_id not in named
    }
    first_billed = dict(
        BillingRow.objects.filter(resource_id__in=unowned)
        .values("resource_id")
        .annotate(first=Min("charge_period_start"))
        .values_list("resource_id", "first")
    )
    for resource_id in sorted(unowned):
        first = first_billed.get(resource_id)
        if first is not None and first <= aged_since:
            found += with_costs(None, calc.NO_OWNER, resource_id, (at - first).total_seconds())
    return found


# --- audit completeness (M11) --------------------------------------------------------------------


@dataclass(frozen=True)
class Gap:
    kind: str
    record: str
    team_id: int | None
    object_id: str
    occurred_at: datetime
    expected: str
    problem: str


def _events(seqs: list[int], with_payload: bool) -> dict[int, tuple[str, str, str | None]]:
    """seq → (action, object_id, the state its payload says the object went to)."""
    fields = (
        ("seq", "action", "object_id", "body") if with_payload else ("seq", "action", "object_id")
    )
    found = {}
    for row in AuditEvent.objects.filter(seq__in=seqs).values_list(*fields).iterator():
        to = json.loads(row[3]).get("payload", {}).get("to") if with_payload else None
        found[row[0]] = (row[1], row[2], to)
    return found


@dataclass(frozen=True)
class Timeline:
    """A model whose rows record state changes and keep the seq of their audit event."""

    kind: str  # as gaps are filed: request, run, resource, runbook_run, runbook_approval
    model: type[Model]
    owner: str  # the field naming the object that moved
    noun: str  # how a message names that object
    team: tuple[str, ...]  # paths to its team, the first that is set
    action: str = ""  # the event's action ("request.{to}"); "" → its payload says where it went
    states: tuple[str | None, str] = ("from_state", "to_state")

    def rows(self, start: datetime, end: datetime) -> list[tuple]:
        before, after = self.states
        step = ("step__uuid",) if self.model is RunTransition else ()
        rows = self.model.objects.filter(_in("created_at", start, end)).annotate(
            team_of=Coalesce(*self.team, Value(None)) if len(self.team) > 1 else F(self.team[0]),
            state_before=F(before) if before else Value(""),
        )
        return list(
            rows.order_by("id").values_list(
                "id",
                f"{self.owner}__uuid",
                "team_of",
                "state_before",
                after,
                "audit_seq",
                "created_at",
                *step,
            )
        )

    def where(self, pk, before: str, after: str, subject: str, is_step: bool) -> str:
        noun = f"{self.noun} step" if is_step else self.noun
        if self.states[0] is None:
            return f"{self.kind.replace('_', ' ')} #{pk} ({after}) of {noun} {subject}"
        return f"{self.noun} transition #{pk} ({before or '∅'} → {after}) of {noun} {subject}"


TIMELINES = (
    Timeline(
        "request",
        RequestTransition,
        "request",
        "request",
        ("request__team_id",),
        action="request.{to}",
    ),
    Timeline(
        "run", RunTransition, "run", "run", ("run__request__team_id", "run__runbook_run__team_id")
    ),
    Timeline("resource", ResourceTransition, "resource", "resource", ("resource__team_id",)),
    Timeline(
        "runbook_run",
        RunbookRunTransition,
        "runbook_run",
        "runbook run",
        ("runbook_run__team_id",),
    ),
    Timeline(
        "runbook_approval",
        RunbookApproval,
        "runbook_run",
        "runbook run",
        ("runbook_run__team_id",),
        action="runbook_run.approval_{to}",
        states=(None, "decision"),
    ),
)


def _timeline_checks(timeline: Timeline, start, end) -> tuple[list[TransitionCheck], list[Gap]]:
    rows = timeline.rows(start, end)
    events = _events([row[5] for row in rows if row[5] is not None], not timeline.action)
    checks, gaps = [], []
    for pk, uuid, team_id, from_state, to_state, seq, at, *step in rows:
        is_step = bool(step and step[0])
        subject = str(step[0]) if is_step else str(uuid)
        where = timeline.where(pk, from_state, to_state, subject, is_step)
        expected = timeline.action.format(to=to_state) if timeline.action else f"→ {to_state}"
        found = events.get(seq)
        if seq is None:
            problem = f"{where} has no audit event recorded (audit_seq is empty)"
        elif found is None:
            problem = f"{where}: its audit event #{seq} ({expected}) is missing"
        elif timeline.action and found[:2] != (expected, subject):
            problem = (
                f"{where}: audit event #{seq} is {found[0]} on {found[1]}, "
                f"expected {expected} on {subject}"
            )
        elif not timeline.action and (found[1], found[2]) != (subject, to_state):
            problem = (
                f"{where}: audit event #{seq} ({found[0]}) is about {found[1]} going to "
                f"{found[2]}, expected {subject} going to {to_state}"
            )
        else:
            problem = ""
        checks.append(TransitionCheck(timeline.kind, team_id, str(pk), not problem, problem))
        if problem:
            gaps.append(Gap(timeline.kind, str(pk), team_id, subject, at, expected, problem))
    return checks, gaps


APPROVAL_EVENTS: dict[str, str] = {
    ApprovalDecision.APPROVED: "request.approval_approved",
    ApprovalDecision.REJECTED: "request.rejected",
}


def _approval_checks(start, end) -> tuple[list[TransitionCheck], list[Gap]]:
    rows = list(
        Approval.objects.filter(_in("created_at", start, end))
        .order_by("id")
        .values_list(
            "id", "request__uuid", "request__team_id", "approver_id", "decision", "created_at"
        )
    )
    uuids = {str(row[1]) for row in rows}
    available = Counter(
        AuditEvent.objects.filter(
            object_type="catalog.request",
            object_id__in=uuids,
            action__in=list(APPROVAL_EVENTS.values()),
        ).values_list("object_id", "action", "actor_id")
    )
    checks, gaps = [], []
    for pk, uuid, team_id, approver_id, decision, at in rows:
        expected = APPROVAL_EVENTS.get(decision, f"request.approval_{decision}")
        key = (str(uuid), expected, approver_id)
        problem = ""
        if available[key] > 0:
            available[key] -= 1
        else:
            problem = (
                f"approval #{pk} ({decision} by user {approver_id}) of request {uuid} has no "
                f"{expected} audit event by that user"
            )
            gaps.append(Gap("approval", str(pk), team_id, str(uuid), at, expected, problem))
        checks.append(TransitionCheck("approval", team_id, str(pk), not problem, problem))
    return checks, gaps


def transition_checks(start: datetime, end: datetime) -> tuple[list[TransitionCheck], list[Gap]]:
    """Every state change of requests, provisioning runs and their steps, resources and runbook
    runs, and every approval (of requests and runbook runs), made in [start, end), against the
    audit store."""
    parts = [_timeline_checks(timeline, start, end) for timeline in TIMELINES]
    parts.append(_approval_checks(start, end))
    return [c for part in parts for c in part[0]], [g for part in parts for g in part[1]]
