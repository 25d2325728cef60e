"""Writes for teams and memberships; each is atomic and audited in the same transaction."""

from __future__ import annotations

from django.db import transaction

from audit.services import audit_record
from teams.choices import TeamRole
from teams.models import Membership, Team


def team_create(*, actor, slug: str, name: str, cost_center: str = "") -> Team:
    with transaction.atomic():
        team = Team(slug=slug, name=name, cost_center=cost_center)
        team.full_clean()
        team.save()
        audit_record(
            action="team.created",
            actor=actor,
            obj=team,
            team=team,
            payload={"slug": slug, "name": name, "cost_center": cost_center},
        )
    return team


def membership_set(*, actor, team: Team, user, role: str = TeamRole.MEMBER) -> Membership:
    """Add a user to a team or change their role (idempotent: no event when nothing changes)."""
    if role not in TeamRole.values:
        raise ValueError(f"role {role!r} is not one of {', '.join(TeamRole.values)}")
    with transaction.atomic():
        membership, created = Membership.objects.select_for_update().get_or_create(
            team=team, user=user, defaults={"role": role}
        )
        if not created and membership.role == role:
            return membership
        old_role = None if created else membership.role
        if not created:
            membership.role = role
            membership.save(update_fields=["role"])
        audit_record(
            action="team.membership_set",
            actor=actor,
            obj=team,
            team=team,
            payload={"user": user.get_username(), "role": role, "previous_role": old_role},
        )
    return membership
