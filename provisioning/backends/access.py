"""`access.grant`: temporary elevated access, as membership of a group
`elevated:<system>:<role>` in SSOps's directory (Django groups, which integrations read
through the admin or the database). The grant ends at `expires_at`: the resource lifecycle
beat job revokes it on time; undo revokes it at once.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from catalog.template_spec import parse_duration_hours
from provisioning.base import PermanentError, ResourceSpec, StepContext, StepResult

ACTION = "access.grant"


def group_name(system: str, role: str) -> str:
    return f"elevated:{system}:{role}"[:150]


class AccessGrant:
    def apply(self, ctx: StepContext) -> StepResult:
        subject, system, role = ctx.input["subject"], ctx.input["system"], ctx.input["role"]
        try:
            hours = parse_duration_hours(ctx.input["duration"])
        except ValueError as exc:
            raise PermanentError(str(exc)) from None
        user = get_user_model().objects.filter(username=subject, is_active=True).first()
        if user is None:
            raise PermanentError(f"there is no active user {subject!r} to grant access to")
        # Counted from the step's first start, so a re-run does not lengthen the grant.
        start = ctx.started_at or timezone.now()
        expires = start + dt.timedelta(hours=hours)
        group, _ = Group.objects.get_or_create(name=group_name(system, role))
        user.groups.add(group)
        ctx.log.info(f"{subject} added to {group.name} until {expires:%Y-%m-%d %H:%M} UTC")
        grant = f"{group.name}/{subject}"
        return StepResult(
            output={"grant_id": grant, "expires_at": expires.isoformat()},
            resource=ResourceSpec(
                name=grant,
                external_id=f"group:{group.name}:{subject}",
                details={
                    "group": group.name,
                    "subject": subject,
                    "system": system,
                    "role": role,
                    "expires_at": expires.isoformat(),
                },
            ),
        )

    def undo(self, ctx: StepContext) -> StepResult:
        subject = ctx.input.get("subject", "")
        name = group_name(ctx.input.get("system", ""), ctx.input.get("role", ""))
        revoke(subject=subject, group=name, keep_for=ctx.key)
        ctx.log.info(f"{subject} removed from {name} (unless another live grant holds it)")
        return StepResult()


def revoke(*, subject: str, group: str, keep_for: str) -> bool:
    """Take `subject` out of `group` unless another active grant (not step `keep_for`) still
    gives it; True when removed."""
    from provisioning.choices import ResourceState
    from provisioning.models import Resource

    others = (
        Resource.objects.filter(kind=ACTION, state=ResourceState.ACTIVE, details__group=group)
        .filter(details__subject=subject, expires_at__gt=timezone.now())
        .exclude(step__uuid=keep_for)
    )
    if others.exists():
        return False
    user = get_user_model().objects.filter(username=subject).first()
    found = Group.objects.filter(name=group).first()
    if user is None or found is None:
        return False
    user.groups.remove(found)
    return True
