"""Reads for runs, steps, resources, runbook runs and orphan findings, scoped to the caller:
platform admins and executives see everything; on-call sees every runbook run; others see
their teams' and their own."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Prefetch, Q, QuerySet

from catalog.models import Request
from catalog.selectors.requests import request_list_visible
from provisioning.models import (
    DriftFinding,
    OrphanFinding,
    ProvisioningRun,
    Resource,
    ResourceSecret,
    Runbook,
    RunbookRun,
    RunStep,
)
from provisioning.models.runs import RUN_OPEN
from teams import permissions
from teams.models import Team


def run_list_visible(*, user) -> QuerySet[ProvisioningRun]:
    runs = ProvisioningRun.objects.select_related(
        "request__team", "request__template_version__template", "runbook_run__team"
    )
    if permissions.sees_everything(user):
        return runs
    requests = request_list_visible(user=user).values("pk")
    runbook_runs = runbook_run_list_visible(user=user).values("pk")
    return runs.filter(Q(request_id__in=requests) | Q(runbook_run__in=runbook_runs))


def step_list_visible(*, user) -> QuerySet[RunStep]:
    return RunStep.objects.select_related("run").filter(
        run__in=run_list_visible(user=user).values("pk")
    )


def resource_list_visible(*, user) -> QuerySet[Resource]:
    resources = Resource.objects.select_related(
        "team", "requester", "request", "template_version__template"
    )
    if permissions.sees_everything(user):
        return resources
    return permissions.of_teams_or_own(resources, user, own="requester")


def runbook_run_list_visible(*, user) -> QuerySet[RunbookRun]:
    runs = RunbookRun.objects.select_related("runbook", "team", "actor", "run")
    if permissions.sees_everything(user) or permissions.is_oncall(user):
        return runs
    return permissions.of_teams_or_own(runs, user, own="actor")


def runbook_list() -> QuerySet[Runbook]:
    return Runbook.objects.filter(enabled=True)


@dataclass
class RunPanel:
    """What the request page shows of provisioning: each run with its steps (log, duration,
    artifact), and the secrets the requester may still see once."""

    runs: list[ProvisioningRun] = field(default_factory=list)
    resources: list[Resource] = field(default_factory=list)
    revealable: list[Resource] = field(default_factory=list)

    @property
    def live(self) -> bool:
        return any(run.state in RUN_OPEN for run in self.runs)


def run_panel(*, request: Request, user) -> RunPanel:
    steps = RunStep.objects.order_by("position").select_related("resource")
    runs = list(
        request.runs.order_by("created_at", "id").prefetch_related(
            Prefetch("steps", queryset=steps)
        )
    )
    revealable = []
    if user.pk == request.requester_id:
        secrets = ResourceSecret.objects.filter(
            resource__request=request, revealed_at__isnull=True, destroyed_at__isnull=True
        ).exclude(ciphertext="")
        revealable = [s.resource for s in secrets.select_related("resource")]
    resources = list(request.resources.order_by("created_at", "id"))
    return RunPanel(runs=runs, resources=resources, revealable=revealable)


@dataclass
class TeamOrphans:
    team: Team | None
    findings: list[OrphanFinding]


def orphan_report(*, user, include_resolved: bool = False) -> list[TeamOrphans]:
    """Open orphan findings per team (teams the caller may see; findings with no known team
    only for platform admins and executives)."""
    findings = OrphanFinding.objects.select_related("team", "resource").order_by(
        "team__slug", "backend", "name"
    )
    if not include_resolved:
        findings = findings.filter(resolved_at__isnull=True)
    if not permissions.sees_everything(user):
        findings = findings.filter(team_id__in=permissions.team_ids(user))
    grouped: dict[int | None, TeamOrphans] = {}
    for finding in findings:
        grouped.setdefault(finding.team_id, TeamOrphans(finding.team, [])).findings.append(finding)
    return sorted(grouped.values(), key=lambda g: (g.team is None, g.team.slug if g.team else ""))


def drift_findings_visible(*, user, include_resolved: bool = False) -> QuerySet[DriftFinding]:
    """Drift findings of the caller's teams (platform admins, executives and on-call: all),
    open ones unless asked, newest first."""
    findings = DriftFinding.objects.select_related(
        "team", "resource", "resolved_by", "reapply_requested_by"
    ).order_by("-last_seen_at", "-id")
    if not include_resolved:
        findings = findings.filter(resolved_at__isnull=True)
    if permissions.sees_everything(user) or permissions.is_oncall(user):
        return findings
    return findings.filter(team_id__in=permissions.team_ids(user))
