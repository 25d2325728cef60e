"""Demo teams and users for `seed_demo` (idempotent)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from audit.services import audit_record
from catalog.choices import PlatformGroup, TeamRole
from catalog.models import Team
from catalog.services import membership_set, team_create

DEMO_PASSWORD = "demo"  # noqa: S105  (documented demo logins, created only by seed_demo)

TEAMS = [
    ("payments", "Payments", "CC-1001"),
    ("search", "Search", "CC-1002"),
    ("platform", "Platform", "CC-1000"),
]
# username, platform groups, superuser, [(team, role)]
USERS = [
    ("dev", [], False, [("payments", TeamRole.MEMBER), ("search", TeamRole.MEMBER)]),
    ("approver", [], False, [("payments", TeamRole.APPROVER), ("search", TeamRole.APPROVER)]),
    ("oncall", [PlatformGroup.ONCALL], False, [("platform", TeamRole.MEMBER)]),
    ("exec", [PlatformGroup.EXECUTIVE], False, []),
    ("admin", [PlatformGroup.ADMIN], True, [("platform", TeamRole.ADMIN)]),
]


def seed(stdout=None) -> None:
    User = get_user_model()
    with transaction.atomic():
        admin = User.objects.filter(username="admin").first()
        teams = {}
        for slug, name, cost_center in TEAMS:
            team = Team.objects.filter(slug=slug).first()
            teams[slug] = team or team_create(
                actor=admin, slug=slug, name=name, cost_center=cost_center
            )
        for group in PlatformGroup.ALL:
            Group.objects.get_or_create(name=group)
        for username, groups, superuser, memberships in USERS:
            user, created = User.objects.get_or_create(
                username=username, defaults={"email": f"{username}@ssops.demo"}
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.is_staff = user.is_superuser = superuser
                user.save()
                user.groups.set(Group.objects.filter(name__in=groups))
                audit_record(
                    action="user.created",
                    actor=admin,
                    obj=user,
                    payload={"username": username, "groups": groups, "superuser": superuser},
                )
            for slug, role in memberships:
                membership_set(actor=admin or user, team=teams[slug], user=user, role=role)
    if stdout:
        stdout.write(f"demo users: {', '.join(u[0] for u in USERS)} (password {DEMO_PASSWORD!r})")
