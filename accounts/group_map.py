"""The identity provider's groups → SSOps roles (SSOPS_OIDC_GROUP_MAP), as a pure module: the
settings validate the map with it at start-up and the sign-in applies it.

The map is JSON: provider group → list of roles, each `platform-admin`, `oncall`, `executive` or
`team:<slug>:<member|approver|admin>`. A person in several groups gets every role they give;
for one team the highest role wins (admin > approver > member)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

PLATFORM_ROLES = ("platform-admin", "oncall", "executive")
TEAM_ROLES = ("member", "approver", "admin")  # lowest first
TEAM_ROLE = re.compile(r"team:([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?):(member|approver|admin)")


class GroupMapError(ValueError):
    """The map is not usable; the message says where and why."""


@dataclass(frozen=True)
class Roles:
    platform: frozenset[str] = frozenset()
    teams: dict[str, str] = field(default_factory=dict)  # team slug → role

    def __bool__(self) -> bool:
        return bool(self.platform or self.teams)

    def as_dict(self) -> dict:
        return {"platform": sorted(self.platform), "teams": dict(sorted(self.teams.items()))}


def parse_group_map(text: str, name: str = "SSOPS_OIDC_GROUP_MAP") -> dict[str, tuple[str, ...]]:
    """The map from its JSON text ('' is an empty map); a bad one raises GroupMapError."""
    if not text.strip():
        return {}
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise GroupMapError(f"{name} is not JSON: {exc.msg} at character {exc.pos}") from None
    if not isinstance(document, dict):
        raise GroupMapError(f"{name} must be a JSON object: provider group → list of roles")
    group_map = {}
    for group, roles in document.items():
        if isinstance(roles, str):
            roles = [roles]
        if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
            raise GroupMapError(f"{name}[{group!r}] must be a list of role names")
        for role in roles:
            if role not in PLATFORM_ROLES and not TEAM_ROLE.fullmatch(role):
                raise GroupMapError(
                    f"{name}[{group!r}] holds {role!r}, which is not one of "
                    f"{', '.join(PLATFORM_ROLES)} or team:<slug>:<member|approver|admin>"
                )
        group_map[group] = tuple(roles)
    return group_map


def roles_for(groups, group_map: dict[str, tuple[str, ...]]) -> Roles:
    """The roles a person in `groups` (the provider's claim) gets."""
    if isinstance(groups, str):  # some providers send one group as a plain string
        groups = [groups]
    platform: set[str] = set()
    teams: dict[str, str] = {}
    for group in groups or ():
        if not isinstance(group, str):
            continue
        for role in group_map.get(group, ()):
            if role in PLATFORM_ROLES:
                platform.add(role)
                continue
            _, slug, team_role = role.split(":")
            if TEAM_ROLES.index(team_role) > TEAM_ROLES.index(teams.get(slug, "member")) or (
                slug not in teams
            ):
                teams[slug] = team_role
    return Roles(frozenset(platform), teams)
