"""The orphan scan (beat, hourly): resources whose owner is gone, and backend objects SSOps made
that are no longer in its inventory — PostgreSQL databases and roles named with
SSOPS_PROVISION_PREFIX, Kubernetes namespaces labelled `app.kubernetes.io/managed-by=ssops`.

Findings are kept (first and last seen) until a scan no longer sees them; nothing is deleted
automatically — the report at /resources/orphans/ lists them per team for people to decide.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from provisioning.backends import BACKENDS
from provisioning.base import Found, StepError
from provisioning.choices import OrphanKind
from provisioning.models import OrphanFinding, Resource, RunStep
from provisioning.models.resources import RESOURCE_HELD
from provisioning.models.runs import STEP_OPEN
from teams.models import Membership, Team


@dataclass
class Candidate:
    kind: str
    backend: str
    name: str
    reason: str
    team_id: int | None = None
    resource_id: int | None = None
    details: dict = field(default_factory=dict)


def owners_gone() -> list[Candidate]:
    """Held resources whose team has no active member, or whose requester left or is gone."""
    pairs = set(Membership.objects.filter(user__is_active=True).values_list("team_id", "user_id"))
    staffed = {team for team, _ in pairs}
    found = []
    held = Resource.objects.filter(state__in=RESOURCE_HELD).select_related("team", "requester")
    for resource in held:
        who = resource.requester.get_username()
        if resource.team_id not in staffed:
            reason = f"team {resource.team.slug} has no active members"
        elif not resource.requester.is_active:
            reason = f"requester {who} is deactivated"
        elif (resource.team_id, resource.requester_id) not in pairs:
            reason = f"requester {who} is no longer in team {resource.team.slug}"
        else:
            continue
        found.append(
            Candidate(
                OrphanKind.OWNER_GONE,
                resource.kind,
                resource.name,
                reason,
                team_id=resource.team_id,
                resource_id=resource.pk,
                details={"resource": str(resource.uuid), "request": str(resource.request_id)},
            )
        )
    return found


def _known(kind: str, applied_only: bool = False) -> set[str]:
    held = Resource.objects.filter(kind=kind, state__in=RESOURCE_HELD)
    if applied_only:
        held = held.filter(details__applied=True)
    return set(held.values_list("name", flat=True))


def not_in_inventory(found: list[Found], known: set[str]) -> list[Candidate]:
    """Backend objects SSOps made (or that carry its prefix or label) that it does not hold;
    objects of a step still running are not orphans yet."""
    teams = dict(Team.objects.values_list("slug", "pk"))
    steps = [f.details.get("step") for f in found if f.details.get("step")]
    busy = {
        str(key)
        for key in RunStep.objects.filter(uuid__in=steps, state__in=STEP_OPEN).values_list(
            "uuid", flat=True
        )
    }
    candidates = []
    for item in found:
        if item.name in known or item.details.get("step") in busy:
            continue
        marker = item.details
        if marker.get("request"):
            reason = (
                f"made by SSOps for request {marker['request']} (step {marker.get('step', '?')}) "
                "but no longer in its inventory"
            )
        else:
            reason = "has SSOps's name prefix or label but is not in its inventory"
        candidates.append(
            Candidate(
                OrphanKind.BACKEND_OBJECT,
                item.backend,
                item.name,
                reason,
                team_id=teams.get(marker.get("team", "")),
                details=marker,
            )
        )
    return candidates


def _scan_backends() -> tuple[list[Candidate], dict[str, str], set[str]]:
    """Candidates from each backend, the status of each, and the backends actually scanned."""
    candidates, status, scanned = [], {}, set()
    if settings.PROVISION_POSTGRES_URL:
        try:
            found = BACKENDS["postgres.database"].inventory()
        except StepError as exc:
            status["postgres"] = f"unavailable: {exc}"
        else:
            candidates += not_in_inventory(found, _known("postgres.database"))
            status["postgres"] = f"scanned {len(found)} objects"
            scanned |= {"postgres.database", "postgres.role"}
    else:
        status["postgres"] = "not configured (SSOPS_PROVISION_POSTGRES_URL)"
    try:
        namespaces = BACKENDS["kubernetes.namespace"].inventory()
    except StepError as exc:
        status["kubernetes"] = f"unavailable: {exc}"
    else:
        if namespaces is None:
            status["kubernetes"] = "no cluster configured (SSOPS_KUBECONFIG)"
        else:
            known = _known("kubernetes.namespace", applied_only=True)
            candidates += not_in_inventory(namespaces, known)
            status["kubernetes"] = f"scanned {len(namespaces)} namespaces"
            scanned.add("kubernetes.namespace")
    return candidates, status, scanned


def orphan_scan(*, now: dt.datetime | None = None) -> dict:
    now = now or timezone.now()
    backend_candidates, status, scanned = _scan_backends()
    candidates = owners_gone() + backend_candidates
    new = resolved = 0
    with transaction.atomic():
        open_findings = {
            (f.kind, f.backend, f.name): f
            for f in OrphanFinding.objects.select_for_update()
            .filter(resolved_at__isnull=True)
            .order_by()
        }
        seen = set()
        for candidate in candidates:
            key = (candidate.kind, candidate.backend, candidate.name)
            seen.add(key)
            existing = open_findings.get(key)
            values = {
                "reason": candidate.reason,
                "team_id": candidate.team_id,
                "resource_id": candidate.resource_id,
                "details": candidate.details,
                "last_seen_at": now,
            }
            if existing is not None:
                OrphanFinding.objects.filter(pk=existing.pk).update(**values)
                continue
            finding = OrphanFinding.objects.create(
                kind=candidate.kind,
                backend=candidate.backend,
                name=candidate.name,
                first_seen_at=now,
                **values,
            )
            audit_record(
                action="orphan.found",
                obj=finding,
                team=candidate.team_id,
                payload={
                    "kind": finding.kind,
                    "backend": finding.backend,
                    "name": finding.name,
                    "reason": finding.reason,
                },
            )
            new += 1
        for key, finding in open_findings.items():
            kind, backend, _ = key
            checked = kind == OrphanKind.OWNER_GONE or backend in scanned
            if key in seen or not checked:
                continue
            OrphanFinding.objects.filter(pk=finding.pk).update(resolved_at=now)
            audit_record(
                action="orphan.resolved",
                obj=finding,
                team=finding.team_id,
                payload={"kind": finding.kind, "backend": finding.backend, "name": finding.name},
            )
            resolved += 1
    return {"open": len(seen), "new": new, "resolved": resolved, "backends": status}
