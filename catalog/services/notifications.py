"""Notifications about requests: e-mail (Django's mail backend) and signed webhooks.

Transitions call `request_notify` inside their transaction; it enqueues one Celery task on
commit, so nothing is sent for a change that rolls back. Webhook bodies are signed:

    X-SSOps-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>

Receivers recompute the HMAC over the timestamp, a dot and the raw body, compare in constant
time and refuse old timestamps. Bodies name the request, never its parameters.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import uuid

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mass_mail
from django.db import transaction
from django.db.models import Q
from django.urls import reverse

from catalog.choices import RequestState
from catalog.models import Request, Webhook
from teams.choices import PlatformGroup, TeamRole

logger = logging.getLogger(__name__)

WEBHOOK_TIMEOUT = 5
BREAK_GLASS_EVENT = "break_glass"
EXPIRING_EVENT = "expiring"
# A request that waits for approval: a reminder at half its time, escalations once overdue.
REMINDER_EVENT = "approval_reminder"
ESCALATED_TEAM_EVENT = "approval_escalated_team"
ESCALATED_PLATFORM_EVENT = "approval_escalated_platform"
NUDGE_EVENTS = (REMINDER_EVENT, ESCALATED_TEAM_EVENT, ESCALATED_PLATFORM_EVENT)
TO_REQUESTER = {
    RequestState.APPROVED,
    RequestState.REJECTED,
    RequestState.EXPIRED,
    RequestState.READY,
    RequestState.FAILED,
    RequestState.ROLLED_BACK,
}
_webhook_cache: dict[str, float | bool] = {"checked": 0.0, "any": False}
WEBHOOK_CACHE_SECONDS = 10


def base_url() -> str:
    return settings.SSOPS_BASE_URL


def webhooks_changed(**kwargs) -> None:
    _webhook_cache["checked"] = 0.0


def _any_webhook() -> bool:
    """Whether any webhook is active (re-read at most every few seconds per process)."""
    now = time.monotonic()
    if now - float(_webhook_cache["checked"]) > WEBHOOK_CACHE_SECONDS:
        _webhook_cache["any"] = Webhook.objects.filter(active=True).exists()
        _webhook_cache["checked"] = now
    return bool(_webhook_cache["any"])


def _wants_email(event: str, from_state: str) -> bool:
    if event == RequestState.APPROVED and from_state == RequestState.SUBMITTED:
        return False  # approved automatically: the requester saw it on submitting
    return event in TO_REQUESTER or event in {
        RequestState.PENDING_APPROVAL,
        BREAK_GLASS_EVENT,
        EXPIRING_EVENT,
        *NUDGE_EVENTS,
    }


def request_notify(*, request: Request, event: str, from_state: str = "") -> None:
    """Enqueue the notification task on commit, when anyone is to be told."""
    if not (_wants_email(event, from_state) or _any_webhook()):
        return
    from catalog import tasks

    request_id, email = request.pk, _wants_email(event, from_state)
    transaction.on_commit(lambda: tasks.notify_request.delay(request_id, event, email), robust=True)


def platform_admins():
    users = get_user_model().objects.filter(is_active=True)
    return users.filter(Q(is_superuser=True) | Q(groups__name=PlatformGroup.ADMIN)).distinct()


def team_deciders(request: Request, roles=(TeamRole.APPROVER, TeamRole.ADMIN)):
    """Who of the request's team holds one of `roles` and may still decide on it (never the
    requester, nor who has decided already); the platform admins when nobody does."""
    users = (
        get_user_model()
        .objects.filter(is_active=True)
        .exclude(pk=request.requester_id)
        .exclude(catalog_approvals__request=request)
    )
    found = users.filter(memberships__team_id=request.team_id, memberships__role__in=roles)
    if found.exists():
        return found.distinct()
    return platform_admins().exclude(pk=request.requester_id)


def nudge_recipients(request: Request, event: str):
    """Who a reminder or an escalation goes to: the approvers, the team's admins, or the
    platform admins."""
    if event == REMINDER_EVENT:
        return team_deciders(request)
    if event == ESCALATED_TEAM_EVENT:
        return team_deciders(request, roles=(TeamRole.ADMIN,))
    return platform_admins().exclude(pk=request.requester_id)


def _emails(users) -> list[str]:
    return sorted(set(users.exclude(email="").values_list("email", flat=True)))


def _approver_emails(request: Request) -> list[str]:
    return _emails(team_deciders(request))


def _platform_admin_emails() -> list[str]:
    return _emails(platform_admins())


def _message(request: Request, event: str) -> tuple[str, str]:
    name = f"{request.template_version.template.slug} {request.template_version.version}"
    flag = "[BREAK-GLASS] " if request.break_glass else ""
    subjects = {
        RequestState.PENDING_APPROVAL: f"Approval needed: {name} for {request.team.slug}",
        BREAK_GLASS_EVENT: f"Break-glass approval of {name} for {request.team.slug}",
        REMINDER_EVENT: f"Reminder: approval of {name} for {request.team.slug} waits",
        ESCALATED_TEAM_EVENT: f"Overdue approval of {name} for {request.team.slug}",
        ESCALATED_PLATFORM_EVENT: f"Overdue approval of {name} for {request.team.slug} "
        "(escalated to the platform)",
    }
    subject = flag + subjects.get(event, f"Your request {name} is {event.replace('_', ' ')}")
    link = base_url() + reverse("catalog:request-detail", args=[request.uuid])
    lines = [
        f"Template: {name} ({request.risk_tier} risk)",
        f"Team: {request.team.slug}",
        f"Requested by: {request.requester.get_username()}",
        f"State: {request.get_state_display()}",
    ]
    if request.break_glass:
        lines.append(
            f"BREAK-GLASS by {request.break_glass_by.get_username()} until "
            f"{request.break_glass_until:%Y-%m-%d %H:%M} UTC: {request.break_glass_reason}"
        )
    if request.approval_due_at and event in (RequestState.PENDING_APPROVAL, *NUDGE_EVENTS):
        lines.append(f"Decide before {request.approval_due_at:%Y-%m-%d %H:%M} UTC.")
    if request.approval_expires_at and event in NUDGE_EVENTS:
        lines.append(f"Undecided, it expires at {request.approval_expires_at:%Y-%m-%d %H:%M} UTC.")
    if request.expires_at and event == EXPIRING_EVENT:
        lines.append(
            f"Its resources are deleted at {request.expires_at:%Y-%m-%d %H:%M} UTC unless an "
            "owner extends them."
        )
    lines += ["", link]
    return f"[SSOps] {subject}", "\n".join(lines)


def request_notify_send(*, request_id: int, event: str, email: bool) -> int:
    """Send the e-mails for one event and enqueue one delivery per interested webhook."""
    request = (
        Request.objects.select_related("team", "requester", "template_version__template")
        .select_related("break_glass_by")
        .filter(pk=request_id)
        .first()
    )
    if request is None:
        return 0
    sent = 0
    if email:
        if event == RequestState.PENDING_APPROVAL:
            recipients = _approver_emails(request)
        elif event in NUDGE_EVENTS:
            recipients = _emails(nudge_recipients(request, event))
        elif event == BREAK_GLASS_EVENT:
            recipients = sorted({request.requester.email, *_platform_admin_emails()} - {""})
        else:
            recipients = [request.requester.email] if request.requester.email else []
        if recipients:
            subject, body = _message(request, event)
            sent = send_mass_mail(
                [(subject, body, settings.DEFAULT_FROM_EMAIL, [to]) for to in recipients]
            )
    from catalog import tasks

    occurred = int(time.time())
    for webhook in Webhook.objects.filter(active=True):
        if webhook.wants(event, request.team_id):
            tasks.deliver_webhook.delay(webhook.pk, request.pk, event, occurred)
    return sent


def webhook_body(request: Request, event: str, occurred: int) -> bytes:
    version = request.template_version
    document = {
        "event": event,
        "occurred_at": occurred,
        "request": {
            "uuid": str(request.uuid),
            "template": version.template.slug,
            "version": version.version,
            "team": request.team.slug,
            "requester": request.requester.get_username(),
            "state": request.state,
            "risk_tier": request.risk_tier,
            "break_glass": request.break_glass,
            "url": base_url() + reverse("catalog:request-detail", args=[request.uuid]),
        },
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def webhook_deliver(*, webhook_id: int, request_id: int, event: str, occurred: int) -> int:
    """POST one signed event; raises for network errors and 5xx (the task retries those)."""
    webhook = Webhook.objects.filter(pk=webhook_id, active=True).first()
    request = (
        Request.objects.select_related("team", "requester", "template_version__template")
        .filter(pk=request_id)
        .first()
    )
    if webhook is None or request is None:
        return 0
    body = webhook_body(request, event, occurred)
    timestamp = int(time.time())
    response = requests.post(
        webhook.url,
        data=body,
        headers={
            "Content-Type": "application/json",
            "User-Agent": "SSOps-Webhook/1",
            "X-SSOps-Event": event,
            "X-SSOps-Delivery": uuid.uuid4().hex,
            "X-SSOps-Signature": sign(webhook.secret, timestamp, body),
        },
        timeout=WEBHOOK_TIMEOUT,
        allow_redirects=False,
    )
    if response.status_code >= 500:
        response.raise_for_status()
    if response.status_code >= 400:
        logger.warning(
            "webhook refused an event",
            extra={"webhook": webhook.name, "event": event, "status": response.status_code},
        )
    return response.status_code
