"""The records each platform metric is computed from, read from the database as the plain
values of `slo.platform.calculations` — one function per metric and period, a few queries each.

Records that only the provisioning engine (issue 5) keeps — provisioning runs, resources,
runbook runs, orphan findings — are read through `engine_model`, which raises `WaitingForRecords`
while the catalog has no such model: the metric then says what it waits for instead of showing
a number.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.apps import apps
from django.db.models import Q

from audit.models import AuditEvent
from catalog import lifecycle
from catalog.choices import ApprovalDecision
from catalog.models import Approval, PolicyDecision, RequestTransition, Team
from slo.platform import calculations as calc
from slo.platform.calculations import (
    ApprovalStage,
    Charge,
    Decision,
    Orphan,
    Provision,
    Rating,
    TransitionCheck,
)

PROVISIONING_ENGINE = "the provisioning engine (issue 5)"


class WaitingForRecords(LookupError):
    """The records a metric needs are not kept by this installation yet."""


def engine_model(name: str):
    """A model of the provisioning engine (catalog.<name>), or WaitingForRecords."""
    try:
        return apps.get_model("catalog", name)
    except LookupError:
        raise WaitingForRecords(
            f"waiting for {PROVISIONING_ENGINE}: SSOps keeps no catalog.{name} records yet"
        ) from None


def _in(period_field: str, start: datetime, end: datetime) -> Q:
    return Q(**{f"{period_field}__gte": start, f"{period_field}__lt": end})


# --- catalog timelines (M2, M4, M8) --------------------------------------------------------------


def _approval_waits(request_ids) -> dict[int, float]:
    """Seconds each request spent in pending_approval (all its stays, usually one)."""
    entered: dict[int, datetime] = {}
    waits: dict[int, float] = defaultdict(float)
    rows = (
        RequestTransition.objects.filter(request_id__in=request_ids)
        .filter(Q(to_state=lifecycle.PENDING_APPROVAL) | Q(from_state=lifecycle.PENDING_APPROVAL))
        .order_by("id")
        .values_list("request_id", "from_state", "to_state", "created_at")
    )
    for request_id, from_state, to_state, at in rows:
        if to_state == lifecycle.PENDING_APPROVAL:
            entered[request_id] = at
        elif from_state == lifecycle.PENDING_APPROVAL and request_id in entered:
            waits[request_id] += (at - entered.pop(request_id)).total_seconds()
    return waits


def provisions(start: datetime, end: datetime) -> list[Provision]:
    """Requests that became ready in [start, end)."""
    ready = list(
        RequestTransition.objects.filter(_in("created_at", start, end), to_state=lifecycle.READY)
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


LEAVES_APPROVAL = Q(from_state=lifecycle.PENDING_APPROVAL) | Q(
    from_state=lifecycle.SUBMITTED, to_state=lifecycle.APPROVED
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
    waited = [row[0] for row in ended if row[1] == lifecycle.PENDING_APPROVAL]
    entered = dict(
        RequestTransition.objects.filter(
            request_id__in=waited, to_state=lifecycle.PENDING_APPROVAL
        ).values_list("request_id", "created_at")
    )
    stages = []
    for request_id, from_state, to_state, at, team_id, tier, uuid in ended:
        since = entered.get(request_id, at) if from_state == lifecycle.PENDING_APPROVAL else at
        stages.append(
            ApprovalStage(team_id, tier, (at - since).total_seconds(), to_state, str(uuid))
        )
    return stages


# --- policy decisions (M5) -----------------------------------------------------------------------


def decisions(start: datetime, end: datetime) -> list[Decision]:
    rows = PolicyDecision.objects.filter(_in("created_at", start, end)).values_list(
        "request__team_id", "policy_version__policy__slug", "mode", "outcome"
    )
    return [Decision(*row) for row in rows.iterator()]


# --- probes (M3), ratings (M12), manual on-call actions (M9) -------------------------------------


def probe_outcomes(start: datetime, end: datetime) -> list[bool]:
    from slo.models import ProbeResult

    return list(ProbeResult.objects.filter(_in("at", start, end)).values_list("ok", flat=True))


def ratings(start: datetime, end: datetime) -> list[Rating]:
    from slo.models import SatisfactionRating

    rows = SatisfactionRating.objects.filter(_in("created_at", start, end))
    return [Rating(*row) for row in rows.values_list("team_id", "score")]


def manual_oncall_actions(start: datetime, end: datetime) -> int:
    from slo.models import OncallAction

    return OncallAction.objects.filter(_in("performed_at", start, end), by_oncall=True).count()


def runbook_runs(start: datetime, end: datetime) -> list[calc.RunbookRunRecord]:
    """Finished runbook runs (M6, M9): kept by the provisioning engine."""
    engine_model("RunbookRun")
    raise WaitingForRecords(  # pragma: no cover - wired once issue 5's models are committed
        f"waiting for {PROVISIONING_ENGINE}: runbook runs are not read yet"
    )


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


def resource_join_waiting() -> str:
    """Why billing rows are not joined by ResourceId yet ("" once they are)."""
    try:
        engine_model("Resource")
    except WaitingForRecords as exc:
        return str(exc)
    return ""  # pragma: no cover - wired once issue 5's models are committed


def known_resources() -> dict[str, tuple[int, str]]:
    """ResourceId → (owner team, template) of the resources SSOps provisioned; empty until the
    provisioning engine (issue 5) keeps resources."""
    try:
        engine_model("Resource")
    except WaitingForRecords:
        return {}
    return {}  # pragma: no cover - wired once issue 5's models are committed


BILLING_FIELDS = ("resource_id", "owner", "cost_center", "effective_cost", "billing_currency")


def charges(start: datetime, end: datetime, owners: Owners | None = None) -> list[Charge]:
    """EffectiveCost of the billing rows charged in [start, end) (by ChargePeriodStart)."""
    from slo.models import BillingRow

    owners = owners or Owners()
    found = []
    rows = BillingRow.objects.filter(_in("charge_period_start", start, end))
    for resource_id, owner, cost_center, cost, currency in rows.values_list(
        *BILLING_FIELDS
    ).iterator():
        who = owners.of(resource_id, owner, cost_center)
        found.append(Charge(who.team_id, who.template, cost, currency, who.joined_by, resource_id))
    return found


def orphans(start: datetime, end: datetime, owners: Owners | None = None) -> list[Orphan]:
    """Billed resources with no owner in [start, end); the orphan scan's findings join them
    once the provisioning engine keeps them."""
    return [
        Orphan(None, calc.NO_OWNER, c.resource_id, c.cost, c.currency)
        for c in charges(start, end, owners)
        if c.team_id is None and c.resource_id
    ]


def orphan_scan_waiting() -> str:
    """Why the orphan scan's findings are not counted yet ("" once they are)."""
    try:
        engine_model("OrphanFinding")
    except WaitingForRecords as exc:
        return str(exc)
    return ""  # pragma: no cover - wired once issue 5's models are committed


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


def _request_transition_checks(start, end) -> tuple[list[TransitionCheck], list[Gap]]:
    rows = list(
        RequestTransition.objects.filter(_in("created_at", start, end))
        .order_by("id")
        .values_list(
            "id",
            "request__uuid",
            "request__team_id",
            "from_state",
            "to_state",
            "audit_seq",
            "created_at",
        )
    )
    seqs = [row[5] for row in rows if row[5] is not None]
    events = {
        seq: (action, object_id)
        for seq, action, object_id in AuditEvent.objects.filter(seq__in=seqs).values_list(
            "seq", "action", "object_id"
        )
    }
    checks, gaps = [], []
    for pk, uuid, team_id, from_state, to_state, seq, at in rows:
        expected = f"request.{to_state}"
        found = events.get(seq)
        where = f"request transition #{pk} ({from_state or '∅'} → {to_state}) of request {uuid}"
        if seq is None:
            problem = f"{where} has no audit event recorded (audit_seq is empty)"
        elif found is None:
            problem = f"{where}: its audit event #{seq} ({expected}) is missing"
        elif found != (expected, str(uuid)):
            problem = (
                f"{where}: audit event #{seq} is {found[0]} on {found[1]}, "
                f"expected {expected} on {uuid}"
            )
        else:
            problem = ""
        checks.append(TransitionCheck("request", team_id, str(pk), not problem, problem))
        if problem:
            gaps.append(Gap("request", str(pk), team_id, str(uuid), at, expected, problem))
    return checks, gaps


APPROVAL_EVENTS = {
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
    """Every request transition and approval made in [start, end) against the audit store.
    Runs and resources join once the provisioning engine keeps them."""
    request_checks, request_gaps = _request_transition_checks(start, end)
    approval_checks, approval_gaps = _approval_checks(start, end)
    return request_checks + approval_checks, request_gaps + approval_gaps


def engine_transitions_waiting() -> str:
    """Why run and resource transitions are not checked yet ("" once they are)."""
    try:
        engine_model("ProvisioningRun")
        engine_model("Resource")
    except WaitingForRecords as exc:
        return str(exc)
    return ""  # pragma: no cover - wired once issue 5's models are committed
