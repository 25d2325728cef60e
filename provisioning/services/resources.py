"""Resources after provisioning: extend, delete, reveal a new secret once, and the lifecycle
beat job (access revoked on time, expiry warnings, stalled runs resumed). Audited writes."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from catalog.choices import RequestState
from catalog.models import Request
from catalog.services import notifications
from catalog.services.requests import RequestInvalid
from catalog.services.transitions import TransitionNotAllowed
from core.masking import Secret
from provisioning import crypto
from provisioning.backends.access import ACTION as ACCESS_GRANT
from provisioning.backends.access import revoke
from provisioning.choices import ResourceState
from provisioning.models import ProvisioningRun, Resource, ResourceSecret
from provisioning.services.runs import run_start_teardown, runs_resume_stalled
from teams import permissions

logger = logging.getLogger(__name__)


class SecretGone(Exception):
    """The secret was shown already (or its resource is gone): SSOps no longer has it."""


def can_manage(user, resource: Resource) -> bool:
    """Owners (members of the owner team) and platform admins extend and delete."""
    return permissions.can_request_for_team(user, resource.team_id)


def _check_manage(user, resource: Resource) -> None:
    if not can_manage(user, resource):
        raise PermissionDenied("Only members of the owner team or platform admins may do that.")


def provisioning_started(request: Request) -> dt.datetime:
    """When the request's time to live started (its hand-off to provisioning)."""
    started = (
        request.transitions.filter(to_state=RequestState.PROVISIONING)
        .order_by("id")
        .values_list("created_at", flat=True)
        .first()
    )
    return started or request.created_at


def extension_limit(request: Request) -> dt.datetime:
    """The latest expiry the template allows (and a break-glass approval, when there was one)."""
    limit = provisioning_started(request) + dt.timedelta(
        hours=request.template_version.max_ttl_hours
    )
    if request.break_glass_until is not None:
        limit = min(limit, request.break_glass_until)
    return limit


def resource_extend(*, actor, resource: Resource, hours) -> Request:
    """Push back the expiry of a ready request's resources by `hours`, within the template's
    maximum time to live; warnings start over. RequestInvalid when it does not fit."""
    _check_manage(actor, resource)
    if not isinstance(hours, int) or isinstance(hours, bool) or hours < 1:
        raise RequestInvalid({"hours": ["Enter a whole number of hours, 1 or more."]})
    with transaction.atomic():
        request = (
            Request.objects.select_for_update(of=("self",))
            .select_related("template_version__template", "team")
            .get(pk=resource.request_id)
        )
        if request.state != RequestState.READY or request.expires_at is None:
            raise TransitionNotAllowed(
                f"only a ready request can be extended; it is {request.state}"
            )
        now = timezone.now()
        wanted = max(request.expires_at, now) + dt.timedelta(hours=hours)
        limit = extension_limit(request)
        if wanted > limit:
            room = max(0, int((limit - max(request.expires_at, now)).total_seconds() // 3600))
            raise RequestInvalid(
                {
                    "hours": [
                        f"Use {room} hours or less: {request.template_version} allows resources "
                        f"until {limit:%Y-%m-%d %H:%M} UTC at most."
                    ]
                }
            )
        before = request.expires_at
        Request.objects.filter(pk=request.pk).update(expires_at=wanted, updated_at=now)
        held = Resource.objects.filter(request=request, state=ResourceState.ACTIVE)
        names = list(held.values_list("name", flat=True))
        held.update(expires_at=wanted, warnings_sent=[], updated_at=now)
        audit_record(
            action="request.extended",
            actor=actor,
            obj=request,
            team=request.team_id,
            payload={"from": before, "to": wanted, "hours": hours, "resources": names},
        )
        request.expires_at = wanted
    return request


def resource_delete(*, actor, resource: Resource) -> ProvisioningRun:
    """Delete everything the resource's request created (a request is the unit of quota):
    a teardown run; the request ends deleted and its quota comes back."""
    _check_manage(actor, resource)
    request = resource.request
    if request.state not in (RequestState.READY, RequestState.EXPIRED, RequestState.FAILED):
        raise TransitionNotAllowed(f"the request is {request.state}: there is nothing to delete")
    run = run_start_teardown(
        request_id=request.pk, actor=actor, reason=f"deleted by {actor.get_username()}"
    )
    if run is None:
        raise TransitionNotAllowed("a run of this request is still busy; try again when it ends")
    return run


def secret_reveal(*, actor, resource: Resource) -> Secret:
    """The resource's secret, for its requester, once: the ciphertext is wiped as it is read.
    The audit event records that it was shown, never what."""
    if actor.pk != resource.requester_id:
        raise PermissionDenied("Only the requester sees a new resource's secret, once.")
    with transaction.atomic():
        stored = ResourceSecret.objects.select_for_update().filter(resource=resource).first()
        if stored is None or not stored.can_reveal:
            raise SecretGone("The secret was already shown (or the resource is gone).")
        plain = crypto.decrypt(stored.ciphertext)
        now = timezone.now()
        ResourceSecret.objects.filter(pk=stored.pk).update(
            ciphertext="", revealed_at=now, revealed_by=actor
        )
        audit_record(
            action="resource.secret_revealed",
            actor=actor,
            obj=resource,
            team=resource.team_id,
            payload={"kind": resource.kind, "name": resource.name},
        )
    return plain


# --- beat ------------------------------------------------------------------------------------


def grants_revoke_due(*, now: dt.datetime | None = None) -> int:
    """Take elevated access away at its time, in this process (not behind the queue); the
    request's teardown then records the resource deleted."""
    now = now or timezone.now()
    due = Resource.objects.filter(
        kind=ACCESS_GRANT, state=ResourceState.ACTIVE, expires_at__lte=now
    ).exclude(details__has_key="revoked_at")
    revoked = 0
    for resource in due.select_related("step"):
        details = resource.details
        with transaction.atomic():
            removed = revoke(
                subject=details["subject"], group=details["group"], keep_for=str(resource.step.uuid)
            )
            resource.details = {**details, "revoked_at": now.isoformat()}
            Resource.objects.filter(pk=resource.pk).update(details=resource.details, updated_at=now)
            audit_record(
                action="resource.access_revoked",
                obj=resource,
                team=resource.team_id,
                payload={
                    "group": details["group"],
                    "subject": details["subject"],
                    "removed": removed,
                },
            )
        revoked += 1
    return revoked


def expiry_warnings_send(*, now: dt.datetime | None = None) -> int:
    """Tell requesters (e-mail and webhooks, event `expiring`) when their resources come
    within SSOPS_EXPIRY_WARNING_HOURS of expiry: once per threshold and request."""
    now = now or timezone.now()
    thresholds = settings.EXPIRY_WARNING_HOURS
    if not thresholds:
        return 0
    soon = Resource.objects.filter(
        state=ResourceState.ACTIVE,
        expires_at__gt=now,
        expires_at__lte=now + dt.timedelta(hours=max(thresholds)),
        request__state=RequestState.READY,
    ).select_related("request")
    warned: set[int] = set()
    for resource in soon:
        left = (resource.expires_at - now).total_seconds() / 3600
        reached = [h for h in thresholds if left <= h]
        if set(reached) <= set(resource.warnings_sent):
            continue
        with transaction.atomic():
            Resource.objects.filter(pk=resource.pk).update(
                warnings_sent=sorted(set(resource.warnings_sent) | set(reached), reverse=True)
            )
            audit_record(
                action="resource.expiry_warning",
                obj=resource,
                team=resource.team_id,
                payload={"expires_at": resource.expires_at, "hours_left": round(left, 1)},
            )
            if resource.request_id not in warned:
                warned.add(resource.request_id)
                notifications.request_notify(
                    request=resource.request, event=notifications.EXPIRING_EVENT
                )
    return len(warned)


def resources_lifecycle_sweep(*, now: dt.datetime | None = None) -> dict:
    now = now or timezone.now()
    return {
        "grants_revoked": grants_revoke_due(now=now),
        "requests_warned": expiry_warnings_send(now=now),
        "runs_resumed": runs_resume_stalled(),
    }
