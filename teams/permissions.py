"""Who may see and do what: platform roles come from groups, team roles from memberships.

Results are cached on the user object for the length of one request.
"""

from __future__ import annotations

from django.db.models import Q

from teams.choices import PlatformGroup, TeamRole
from teams.models import Membership

# Both are read on every request, most of them more than once: cached on the user object, which
# lives as long as the HTTP request (or the task) that loaded it.


def _group_names(user) -> frozenset[str]:
    cached = getattr(user, "_ssops_groups", None)
    if cached is None:
        names = user.groups.values_list("name", flat=True) if user.is_authenticated else []
        cached = user._ssops_groups = frozenset(names)
    return cached


def _roles_by_team(user) -> dict[int, str]:
    cached = getattr(user, "_ssops_team_roles", None)
    if cached is None:
        roles = Membership.objects.filter(user_id=user.pk).values_list("team_id", "role")
        cached = user._ssops_team_roles = dict(roles) if user.is_authenticated else {}
    return cached


def is_platform_admin(user) -> bool:
    return bool(
        user.is_authenticated and (user.is_superuser or PlatformGroup.ADMIN in _group_names(user))
    )


def is_oncall(user) -> bool:
    return PlatformGroup.ONCALL in _group_names(user) or is_platform_admin(user)


def is_executive(user) -> bool:
    return PlatformGroup.EXECUTIVE in _group_names(user) or is_platform_admin(user)


def sees_everything(user) -> bool:
    """Platform admins and executives read across teams (executives read only)."""
    return is_platform_admin(user) or is_executive(user)


def team_ids(user) -> set[int]:
    return set(_roles_by_team(user))


def team_role(user, team_id: int | None) -> str | None:
    if team_id is None:
        return None
    return _roles_by_team(user).get(team_id)


def is_team_approver(user, team_id: int | None) -> bool:
    return team_role(user, team_id) in {TeamRole.APPROVER, TeamRole.ADMIN}


def is_team_admin(user, team_id: int | None) -> bool:
    return team_role(user, team_id) == TeamRole.ADMIN


def can_manage_service_tokens(user, team_id: int | None) -> bool:
    """Create, rotate and revoke a team's service tokens: its admins and platform admins."""
    return is_team_admin(user, team_id) or is_platform_admin(user)


def can_view_team(user, team_id: int | None) -> bool:
    return sees_everything(user) or (team_id is not None and team_id in team_ids(user))


def can_request_for_team(user, team_id: int | None) -> bool:
    """Any member of the team files requests for it; so does a platform admin."""
    return is_platform_admin(user) or (team_id is not None and team_id in team_ids(user))


def can_decide(user, request) -> bool:
    """Approve or reject: the team's approvers and admins, or a platform admin — never the
    requester (separation of duties)."""
    if not user.is_authenticated or user.pk == request.requester_id:
        return False
    return is_team_approver(user, request.team_id) or is_platform_admin(user)


def can_cancel(user, request) -> bool:
    return user.is_authenticated and (
        user.pk == request.requester_id
        or is_team_admin(user, request.team_id)
        or is_platform_admin(user)
    )


def can_break_glass(user, request) -> bool:
    """Platform admins only, and not on their own request."""
    return is_platform_admin(user) and user.pk != request.requester_id


def of_teams_or_own(queryset, user, *, own: str):
    """The rows of `queryset` that belong to one of the user's teams or are the user's own
    (`own`: the field naming the user, e.g. "requester"), for lists scoped to a caller."""
    return queryset.filter(Q(team_id__in=team_ids(user)) | Q(**{f"{own}_id": user.pk}))
