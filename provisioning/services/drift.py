"""The drift scan (beat, hourly; failure mode F4): does what each backend holds still match what
was provisioned? PostgreSQL: the database and its role exist, the owner, connection limits,
grants and role attributes; Kubernetes: the namespace's labels, quota, limit range and network
policy. Facts someone accepted since (`Resource.drift_accepted`) are expected instead.

A resource that differs gets one open finding (its differences kept up to date) beside the
orphan findings, shown on the resource, the orphan report and the on-call page, counted on the
executive page, and sent to Alertmanager as a ticket alert while it is open. It is resolved by
a later scan that finds no difference, by accepting the change (what is there becomes what is
expected) or by re-applying the template version (a task restores the objects, then checks).
Network calls run outside the transactions that record what they found.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from datetime import UTC

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from audit.services import audit_record
from provisioning.backends import BACKENDS
from provisioning.base import LogBook, Provisioned, StepError
from provisioning.choices import DriftResolution, ResourceState
from provisioning.models import DriftFinding, Resource
from slo.services.alerts import alert_send
from teams import permissions

ALERT_NAME = "ResourceDrift"
# A firing alert ends on its own unless the next scan sends it again (scans are hourly).
ALERT_HOLD = dt.timedelta(hours=3)
CHECKED = ("postgres.database", "kubernetes.namespace")


class DriftNotOpen(Exception):
    """The finding was resolved meanwhile; the message says how."""


@dataclass
class ScanReport:
    checked: int = 0
    new: int = 0
    open: int = 0
    resolved: int = 0
    backends: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "checked": self.checked,
            "new": self.new,
            "open": self.open,
            "resolved": self.resolved,
            "backends": self.backends,
        }


def can_accept(user, finding: DriftFinding) -> bool:
    """Accepting a change is the owner's risk: the team's admins, or a platform admin."""
    return permissions.is_team_admin(user, finding.team_id) or permissions.is_platform_admin(user)


def can_reapply(user, finding: DriftFinding) -> bool:
    """Putting back what was provisioned: as accepting, and on-call too."""
    return can_accept(user, finding) or permissions.is_oncall(user)


def provisioned(resource: Resource) -> Provisioned:
    step = resource.step
    return Provisioned(
        name=resource.name,
        key=str(step.uuid),
        input=step.input,
        request={"uuid": str(resource.request.uuid), "team": resource.team.slug},
        details=resource.details,
    )


def differences(expected: dict, found: dict) -> list[dict]:
    """Each fact whose value is not what is expected, in a fixed order."""
    return [
        {"what": what, "expected": expected[what], "found": found.get(what)}
        for what in sorted(expected)
        if found.get(what) != expected[what]
    ]


def compare(resource: Resource) -> list[dict]:
    """The resource's differences now (network calls); StepError when its backend cannot
    answer."""
    backend = BACKENDS[resource.kind]
    target = provisioned(resource)
    expected = {**backend.expected(target), **(resource.drift_accepted or {})}
    return differences(expected, backend.observe(target))


def _configured() -> dict[str, str]:
    """Backends that cannot be checked here, and why."""
    skipped = {}
    if not settings.PROVISION_POSTGRES_URL:
        skipped["postgres.database"] = "not configured (SSOPS_PROVISION_POSTGRES_URL)"
    if not settings.KUBECONFIG:
        skipped["kubernetes.namespace"] = "no cluster configured (SSOPS_KUBECONFIG)"
    return skipped


def _checked_resources():
    held = Resource.objects.filter(state=ResourceState.ACTIVE, kind__in=CHECKED).select_related(
        "step", "request", "team"
    )
    # Manifests never applied to a cluster have nothing to drift from.
    return [r for r in held if r.kind != "kubernetes.namespace" or r.details.get("applied")]


def drift_scan(*, now: dt.datetime | None = None) -> dict:
    now = now or timezone.now()
    report = ScanReport(backends=dict(_configured()))
    observed: dict[int, tuple[str, list[dict]]] = {}
    unanswered: set[str] = set(report.backends)
    for resource in _checked_resources():
        if resource.kind in unanswered:
            continue
        try:
            observed[resource.pk] = (resource.kind, compare(resource))
        except StepError as exc:
            # One failure means the backend cannot answer: nothing of it is judged this time.
            report.backends[resource.kind] = f"unavailable: {exc}"
            unanswered.add(resource.kind)
    found_now = {pk: found for pk, (kind, found) in observed.items() if kind not in unanswered}
    for kind in CHECKED:
        report.backends.setdefault(kind, "checked")
    alerts: list[DriftFinding] = []
    with transaction.atomic():
        open_findings = {
            f.resource_id: f
            for f in DriftFinding.objects.select_for_update(of=("self",))
            .filter(resolved_at__isnull=True)
            .select_related("resource__team")
            .order_by()
        }
        resources = Resource.objects.in_bulk(list(found_now))
        for pk, found in found_now.items():
            report.checked += 1
            finding = open_findings.get(pk)
            if found and finding is None:
                finding = _found(resources[pk], found, now)
                report.new += 1
            elif found:
                DriftFinding.objects.filter(pk=finding.pk).update(
                    differences=found, last_seen_at=now
                )
                finding.differences, finding.last_seen_at = found, now
            elif finding is not None:
                _resolve(finding, DriftResolution.CLEARED, actor=None, now=now, payload={})
                report.resolved += 1
            if finding is not None:
                alerts.append(finding)
        for finding in open_findings.values():
            if finding.resource.state != ResourceState.ACTIVE:
                _resolve(finding, DriftResolution.GONE, actor=None, now=now, payload={})
                report.resolved += 1
                alerts.append(finding)
    report.open = DriftFinding.objects.filter(resolved_at__isnull=True).count()
    for finding in alerts:
        drift_alert_send(finding=finding, now=now)
    return report.as_dict()


def _found(resource: Resource, found: list[dict], now: dt.datetime) -> DriftFinding:
    finding = DriftFinding.objects.create(
        resource=resource,
        team=resource.team,
        differences=found,
        first_seen_at=now,
        last_seen_at=now,
    )
    audit_record(
        action="drift.found",
        obj=finding,
        team=resource.team_id,
        payload={
            "resource": str(resource.uuid),
            "kind": resource.kind,
            "name": resource.name,
            "differences": found,
        },
    )
    return finding


def _resolve(finding: DriftFinding, how: str, *, actor, now: dt.datetime, payload: dict) -> None:
    finding.resolved_at, finding.resolution = now, how
    finding.resolved_by = actor if actor is not None and actor.is_authenticated else None
    finding.save(update_fields=["resolved_at", "resolution", "resolved_by"])
    audit_record(
        action=f"drift.{how}",
        actor=actor,
        obj=finding,
        team=finding.team_id,
        payload={"resource": str(finding.resource.uuid), "name": finding.resource.name, **payload},
    )


def _locked_open(finding: DriftFinding) -> DriftFinding:
    locked = (
        DriftFinding.objects.select_for_update(of=("self",))
        .select_related("resource__team")
        .get(pk=finding.pk)
    )
    if locked.resolved_at is not None:
        raise DriftNotOpen(
            f"This finding was resolved already ({locked.get_resolution_display()})."
        )
    return locked


def drift_accept(*, finding: DriftFinding, actor) -> DriftFinding:
    """What the backend holds now becomes what the scan expects of this resource."""
    if not can_accept(actor, finding):
        raise PermissionDenied("Only the team's admins and platform admins accept a change.")
    now = timezone.now()
    with transaction.atomic():
        locked = _locked_open(finding)
        resource = Resource.objects.select_for_update().get(pk=locked.resource_id)
        accepted = {item["what"]: item["found"] for item in locked.differences}
        resource.drift_accepted = {**(resource.drift_accepted or {}), **accepted}
        resource.save(update_fields=["drift_accepted", "updated_at"])
        _resolve(
            locked,
            DriftResolution.ACCEPTED,
            actor=actor,
            now=now,
            payload={"accepted": locked.differences},
        )
        transaction.on_commit(lambda: drift_alert_send(finding=locked, now=now))
    return locked


def drift_reapply(*, finding: DriftFinding, actor) -> DriftFinding:
    """Ask for the template version to be applied again (a task does it, then checks)."""
    from provisioning import tasks

    if not can_reapply(actor, finding):
        raise PermissionDenied("Only the team's admins, on-call and platform admins re-apply.")
    with transaction.atomic():
        locked = _locked_open(finding)
        locked.reapply_requested_at = timezone.now()
        locked.reapply_requested_by = actor
        locked.last_error = ""
        locked.save(update_fields=["reapply_requested_at", "reapply_requested_by", "last_error"])
        audit_record(
            action="drift.reapply_requested",
            actor=actor,
            obj=locked,
            team=locked.team_id,
            payload={"resource": str(locked.resource.uuid), "differences": locked.differences},
        )
        transaction.on_commit(lambda: tasks.drift_reapply.delay(locked.pk))
    return locked


def drift_reapply_run(*, finding_id: int) -> str:
    """The task's work: restore the resource's objects as its template version made them,
    forget what was accepted, and check again. Idempotent: a finding no longer open, or not
    asked to be re-applied, is left alone."""
    finding = (
        DriftFinding.objects.select_related(
            "resource__step", "resource__request", "resource__team", "reapply_requested_by"
        )
        .filter(pk=finding_id, resolved_at__isnull=True, reapply_requested_at__isnull=False)
        .first()
    )
    if finding is None:
        return "nothing to do"
    resource = finding.resource
    backend = BACKENDS[resource.kind]
    target = provisioned(resource)
    log = LogBook(str(finding.uuid), f"drift.reapply {resource.kind}")
    try:
        backend.restore(target, log)
        left = differences(backend.expected(target), backend.observe(target))
    except StepError as exc:
        return _reapply_failed(finding, str(exc))
    now = timezone.now()
    with transaction.atomic():
        Resource.objects.filter(pk=resource.pk).update(drift_accepted={}, updated_at=now)
        if left:
            DriftFinding.objects.filter(pk=finding.pk).update(differences=left)
            return _reapply_failed(finding, "still different after re-applying")
        locked = _locked_open(finding)
        _resolve(
            locked,
            DriftResolution.REAPPLIED,
            actor=finding.reapply_requested_by,
            now=now,
            payload={"log": [line["message"] for line in log.lines]},
        )
        transaction.on_commit(lambda: drift_alert_send(finding=locked, now=now))
    return "reapplied"


def _reapply_failed(finding: DriftFinding, error: str) -> str:
    with transaction.atomic():
        DriftFinding.objects.filter(pk=finding.pk).update(last_error=error[:2000])
        audit_record(
            action="drift.reapply_failed",
            actor=finding.reapply_requested_by,
            obj=finding,
            team=finding.team_id,
            payload={"resource": str(finding.resource.uuid), "error": error[:500]},
        )
    return f"failed: {error}"


# --- alerts ----------------------------------------------------------------------------------


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def drift_alert_payload(*, finding: DriftFinding, now: dt.datetime) -> dict:
    """A ticket alert per drifted resource, as Alertmanager's POST /api/v2/alerts takes it:
    firing with an end a few hours ahead (renewed by each scan), or resolved."""
    resource = finding.resource
    page = settings.SSOPS_BASE_URL.rstrip("/") + reverse(
        "provisioning:resource-detail", args=[resource.uuid]
    )
    what = ", ".join(
        f"{d['what']} {d['found']!r} (provisioned {d['expected']!r})"
        for d in finding.differences[:5]
    )
    return {
        "labels": {
            "alertname": ALERT_NAME,
            "severity": "ticket",
            "team": finding.team.slug if finding.team else "",
            "backend": resource.kind,
            "resource": resource.name,
        },
        "annotations": {
            "summary": f"{resource.kind} {resource.name} no longer matches what was provisioned",
            "description": f"{len(finding.differences)} difference(s): {what}.",
            "dashboard_url": page,
        },
        "startsAt": _iso(finding.first_seen_at),
        "endsAt": _iso(finding.resolved_at or now + ALERT_HOLD),
        "generatorURL": page,
    }


def drift_alert_send(*, finding: DriftFinding, now: dt.datetime) -> bool:
    """Post the finding's alert (when ALERTMANAGER_URL is set); False when it did not arrive
    (the next scan sends a firing one again; a resolved one lapses at its end anyway)."""
    return alert_send(
        drift_alert_payload(finding=finding, now=now),
        what=f"drift alert for {finding.resource.name}",
    )
