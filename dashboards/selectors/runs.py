"""Reads of the provisioning engine's records for the dashboards: the queue of open runs, the
latest failed runs with the step that failed, a request's runs with their steps, and the SSOps
runbook an SLO's alert points to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl, urlsplit

from django.db.models import Count, Min, Prefetch, Q, QuerySet
from django.urls import Resolver404, resolve

from catalog.choices import RequestState
from catalog.models import Request
from dashboards.selectors.common import Scope
from provisioning.choices import RunKind, RunState, StepState
from provisioning.models import ProvisioningRun, Runbook, RunStep
from provisioning.models.runs import RUN_OPEN

FAILED = (RunState.FAILED, RunState.ROLLED_BACK)


def _runs(scope: Scope) -> QuerySet[ProvisioningRun]:
    """Runs of the caller's teams: of their requests, or of runbooks run for them."""
    runs = ProvisioningRun.objects.all()
    if scope.everything:
        return runs
    return runs.filter(
        Q(request__team_id__in=scope.team_ids) | Q(runbook_run__team_id__in=scope.team_ids)
    )


@dataclass
class Queue:
    """Approved requests not yet handed to the provisioner, and the runs it has open."""

    waiting: int
    runs: dict[tuple[str, str], int]  # (kind, state) -> open runs
    oldest: datetime | None

    @property
    def depth(self) -> int:
        return self.waiting + sum(self.runs.values())


def provisioning_queue(*, scope: Scope) -> Queue:
    """Two queries on the state indexes (the kind is named so the (kind, state) index serves)."""
    waiting = scope.teams(Request.objects.filter(state=RequestState.APPROVED)).aggregate(
        n=Count("id"), oldest=Min("updated_at")
    )
    rows = (
        _runs(scope)
        .filter(kind__in=RunKind.values, state__in=RUN_OPEN)
        .values("kind", "state")
        .annotate(n=Count("id"), oldest=Min("created_at"))
        .order_by("kind", "state")
    )
    runs, oldest = {}, waiting["oldest"]
    for row in rows:
        runs[row["kind"], row["state"]] = row["n"]
        oldest = row["oldest"] if oldest is None else min(oldest, row["oldest"])
    return Queue(waiting["n"], runs, oldest)


def failed_runs(*, scope: Scope, limit: int = 15) -> list[ProvisioningRun]:
    """The latest failed or rolled-back runs (on the finished-at index), each with
    `failed_step`: the step that failed, if one did (two queries)."""
    runs = list(
        _runs(scope)
        .filter(state__in=FAILED, finished_at__isnull=False)
        .select_related("request__team", "runbook_run__team", "runbook_run__runbook")
        .order_by("-finished_at")[:limit]
    )
    steps = RunStep.objects.filter(run__in=runs, state=StepState.FAILED).order_by("position")
    failed: dict[int, RunStep] = {}
    for step in steps:
        failed.setdefault(step.run_id, step)
    for run in runs:
        run.failed_step = failed.get(run.pk)  # type: ignore[attr-defined]
    return runs


def request_runs(*, request: Request) -> list[ProvisioningRun]:
    """The request's runs (provision, teardown) in order, with their steps (two queries)."""
    steps = RunStep.objects.order_by("position")
    return list(
        request.runs.order_by("created_at", "id").prefetch_related(Prefetch("steps", steps))
    )


def runbook_link(url: str) -> tuple[str, dict[str, str]] | None:
    """(slug, parameters) when an SLO's runbook URL names an SSOps runbook page,
    e.g. https://ssops.example/runbooks/flush-cache/?pattern=sessions:*; None otherwise."""
    parts = urlsplit(url or "")
    try:
        match = resolve(parts.path or "/")
    except Resolver404:
        return None
    if match.view_name != "provisioning:runbook-detail":
        return None
    return match.kwargs["slug"], dict(parse_qsl(parts.query))


def runbooks_for(urls: list[str]) -> dict[str, tuple[Runbook, dict[str, str]]]:
    """The enabled SSOps runbooks the given URLs name, by URL, with the parameters each URL
    gives (one query)."""
    links = {url: found for url in set(urls) if (found := runbook_link(url))}
    if not links:
        return {}
    runbooks = Runbook.objects.filter(enabled=True, slug__in={s for s, _ in links.values()})
    by_slug = {runbook.slug: runbook for runbook in runbooks}
    return {
        url: (by_slug[slug], params) for url, (slug, params) in links.items() if slug in by_slug
    }
