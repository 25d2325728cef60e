"""Audit events for what Django itself does: logins, failed logins, logouts and admin edits;
and a team membership's removal, whichever way it is removed (the admin's inline, a service, a
deleted user or team), so that the audit trail knows who was in a team when."""

from __future__ import annotations

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.contrib.contenttypes.models import ContentType
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from audit.services import audit_record
from teams.models import Membership

_ADMIN_ACTIONS = {ADDITION: "admin.added", CHANGE: "admin.changed", DELETION: "admin.deleted"}


def _client(request) -> dict:
    if request is None:
        return {}
    return {
        "ip": request.META.get("REMOTE_ADDR", ""),
        "user_agent": request.headers.get("User-Agent", "")[:200],
    }


@receiver(user_logged_in)
def on_login(sender, request, user, **kwargs):
    audit_record(action="auth.login", actor=user, obj=user, payload=_client(request))


@receiver(user_logged_out)
def on_logout(sender, request, user, **kwargs):
    if user is not None:
        audit_record(action="auth.logout", actor=user, obj=user, payload=_client(request))


@receiver(user_login_failed)
def on_login_failed(sender, credentials, request=None, **kwargs):
    # credentials holds the password: only the username is kept (and masking is a second guard).
    audit_record(
        action="auth.login_failed",
        object_type="auth.user",
        object_id=str(credentials.get("username", ""))[:64],
        payload=_client(request),
    )


@receiver(post_save, sender=LogEntry)
def on_admin_change(sender, instance: LogEntry, created: bool, **kwargs):
    if not created:
        return
    content_type = (
        ContentType.objects.get_for_id(instance.content_type_id)
        if instance.content_type_id
        else None
    )
    audit_record(
        action=_ADMIN_ACTIONS.get(instance.action_flag, "admin.other"),
        actor=instance.user,
        object_type=f"{content_type.app_label}.{content_type.model}" if content_type else "",
        object_id=str(instance.object_id or "")[:64],
        payload={"object": instance.object_repr, "change": instance.get_change_message()},
    )


@receiver(post_delete, sender=Membership)
def on_membership_removed(sender, instance: Membership, **kwargs):
    audit_record(
        action="team.membership_removed",
        obj=instance,
        team=instance.team_id,
        payload={
            "user_id": instance.user_id,
            "role": instance.role,
            "member_since": instance.created_at,
        },
    )
