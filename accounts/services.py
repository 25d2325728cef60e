"""Writes for API tokens; each is atomic and records its audit event in the same transaction.

A key is returned once, by the call that makes it (`Minted.key`), and stored only as its digest.
The calls other parts of SSOps make:

- `personal_token_create(actor=…, name=…, scopes=…, days=…, user=…)` mints a person's token
  (`user` defaults to the actor; `actor=None` is SSOps itself, e.g. a sign-in flow minting a
  token for the person who signed in);
- `user_tokens_revoke(actor=…, user=…, reason=…)` stops every token of a person at once (someone
  who left, or lost every group that gave them access);
- `service_token_create`, `api_token_rotate` and `api_token_revoke` for team admins and owners.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from accounts.choices import TokenKind, TokenScope
from accounts.group_map import Roles, roles_for
from accounts.keys import key_digest, key_generate, key_prefix
from accounts.models import ApiToken, OidcIdentity, SpentIdToken
from audit.services import audit_record
from core.masking import Secret
from teams import permissions
from teams.choices import PlatformGroup, TeamRole
from teams.models import Membership, Team

# A refused token (expired, revoked) is recorded at most this often, not once per call.
REFUSAL_EVERY = timedelta(hours=1)
# A personal token's last use is written at most this often (a service token's every use is
# an audit event anyway).
USE_EVERY = timedelta(minutes=1)
NAME_MAX = 100
SERVICE_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,48}[a-z0-9])?$")
MAX_OVERLAP_HOURS = 7 * 24
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class TokenInvalid(Exception):
    """Input that makes no token: `errors` maps each field to what is wrong with it."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class Minted:
    """A new token and its key: the only time the key exists outside the caller's hands."""

    token: ApiToken
    key: Secret


# --- checks ----------------------------------------------------------------------------------


def can_manage(user, token: ApiToken) -> bool:
    """Revoke or rotate: a personal token's owner (or a platform admin); a service token's
    team admins (or a platform admin)."""
    if not user.is_authenticated:
        return False
    if token.kind == TokenKind.SERVICE:
        return permissions.can_manage_service_tokens(user, token.team_id)
    return user.pk == token.user_id or permissions.is_platform_admin(user)


def scopes_clean(scopes) -> list[str]:
    """Known scopes, in a fixed order, with read added to write and approve."""
    if isinstance(scopes, str) or not scopes:
        raise TokenInvalid({"scopes": [f"Give one or more of {', '.join(TokenScope.values)}."]})
    unknown = sorted({str(s) for s in scopes} - set(TokenScope.values))
    if unknown:
        raise TokenInvalid(
            {"scopes": [f"Unknown: {', '.join(unknown)}; use {', '.join(TokenScope.values)}."]}
        )
    wanted = set(scopes) | {TokenScope.READ}
    return [scope for scope in TokenScope.values if scope in wanted]


def expiry_clean(
    *,
    days: int | None,
    expires_at: datetime | None,
    now: datetime,
    not_after: datetime | None = None,
) -> datetime:
    """When a new token expires: in `days`, at `expires_at`, or in SSOPS_TOKEN_DEFAULT_DAYS,
    never beyond SSOPS_TOKEN_MAX_DAYS, nor beyond `not_after` (the expiry of the token a new
    one is made with: a token cannot outlive the token that made it)."""
    longest = settings.TOKEN_MAX_DAYS
    if days is not None and expires_at is not None:
        raise TokenInvalid({"expires_at": ["Give days or expires_at, not both."]})
    if expires_at is None:
        days = settings.TOKEN_DEFAULT_DAYS if days is None else days
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= longest:
            raise TokenInvalid({"days": [f"Use 1 to {longest} days (the platform's maximum)."]})
        expires_at = now + timedelta(days=days)
    elif expires_at <= now:
        raise TokenInvalid({"expires_at": ["That time has passed."]})
    elif expires_at > now + timedelta(days=longest):
        raise TokenInvalid(
            {"expires_at": [f"At most {longest} days from now (the platform's maximum)."]}
        )
    if not_after is not None:
        expires_at = min(expires_at, not_after)
    return expires_at


def _name_clean(name: str, *, service: bool) -> str:
    name = (name or "").strip()
    if service and not SERVICE_NAME.match(name):
        raise TokenInvalid(
            {
                "name": [
                    "Use lower-case letters, digits and hyphens (at most 50), starting and "
                    "ending with a letter or digit, e.g. deploy-pipeline."
                ]
            }
        )
    if not name or len(name) > NAME_MAX or CONTROL.search(name):
        raise TokenInvalid({"name": [f"Give a name of 1 to {NAME_MAX} printable characters."]})
    return name


def _asked(name, scopes, days, expires_at, not_after, now, *, service: bool):
    """A new token's name, scopes and expiry, checked (TokenInvalid naming the field)."""
    return (
        _name_clean(name, service=service),
        scopes_clean(scopes),
        expiry_clean(days=days, expires_at=expires_at, now=now, not_after=not_after),
    )


def _actor_or_none(actor):
    return actor if actor is not None and actor.is_authenticated else None


def _describe(token: ApiToken) -> dict:
    return {
        "name": token.name,
        "kind": token.kind,
        "user": token.user.get_username(),
        "shown_as": token.key_prefix,
    }


def _mint(
    *,
    actor,
    kind: str,
    name: str,
    user,
    team: Team | None,
    scopes: list[str],
    expires_at: datetime,
    now: datetime,
    rotated_from: ApiToken | None = None,
    key: str | None = None,
) -> Minted:
    key = key or key_generate()
    token = ApiToken.objects.create(
        kind=kind,
        name=name,
        user=user,
        team=team,
        scopes=scopes,
        key_prefix=key_prefix(key),
        key_digest=key_digest(key),
        created_at=now,
        created_by=_actor_or_none(actor),
        expires_at=expires_at,
        rotated_from=rotated_from,
    )
    audit_record(
        action="token.created",
        actor=actor,
        obj=token,
        team=team,
        payload={
            **_describe(token),
            "scopes": scopes,
            "expires_at": expires_at,
            "rotated_from": str(rotated_from.uuid) if rotated_from else None,
        },
    )
    return Minted(token, Secret(key))


# --- personal tokens -------------------------------------------------------------------------


def is_service_identity(user) -> bool:
    return ApiToken.objects.filter(user=user, kind=TokenKind.SERVICE).exists()


def personal_token_create(
    *,
    actor,
    name: str,
    scopes,
    days: int | None = None,
    expires_at: datetime | None = None,
    user=None,
    not_after: datetime | None = None,
    key: str | None = None,
) -> Minted:
    """A personal token for `user` (default: the actor). Only the person, a platform admin or
    SSOps itself (`actor=None`) mints one; `key` is for SSOps's own callers that must know the
    key in advance (the synthetic probe derives its key), never for input from outside."""
    user = user or actor
    if user is None or not user.is_authenticated:
        raise PermissionDenied("A personal token belongs to a signed-in person.")
    if actor is not None and actor.pk != user.pk and not permissions.is_platform_admin(actor):
        raise PermissionDenied("Only platform admins make tokens for someone else.")
    if not user.is_active:
        raise TokenInvalid({"user": [f"{user.get_username()} is deactivated."]})
    if is_service_identity(user):
        raise PermissionDenied("A service identity has service tokens, made by its team's admins.")
    now = timezone.now()
    name, scopes, expires = _asked(name, scopes, days, expires_at, not_after, now, service=False)
    with transaction.atomic():
        return _mint(
            actor=actor,
            kind=TokenKind.PERSONAL,
            name=name,
            user=user,
            team=None,
            scopes=scopes,
            expires_at=expires,
            now=now,
            key=key,
        )


# --- service tokens --------------------------------------------------------------------------


def service_username(team: Team, name: str) -> str:
    """The identity a service token acts as, and the actor of its audit events: the token's
    name at its team (`deploy@payments`)."""
    return f"{name}@{team.slug}"


def _service_identity(*, actor, team: Team, name: str, scopes: list[str], now: datetime):
    """The team's service identity of this name: made on first use (a user with no password,
    a member of the team — an approver when the token may approve), refused while a token of
    that name still works (rotate it instead). People's memberships are written by the
    catalog's team services; this is the one place a service identity's is."""
    User = get_user_model()
    username = service_username(team, name)
    identity = User.objects.select_for_update().filter(username=username).first()
    if identity is None:
        identity = User(username=username, first_name="Service token", email="")
        identity.set_unusable_password()
        identity.save()
        audit_record(
            action="user.created",
            actor=actor,
            obj=identity,
            team=team,
            payload={"username": username, "purpose": f"service token of team {team.slug}"},
        )
    elif not ApiToken.objects.filter(user=identity, kind=TokenKind.SERVICE, team=team).exists():
        raise TokenInvalid({"name": [f"{username} is a person's account: choose another name."]})
    elif ApiToken.objects.filter(user=identity).valid(now).exists():
        raise TokenInvalid(
            {"name": [f"Team {team.slug} has a working service token {name}: rotate it instead."]}
        )
    role = TeamRole.APPROVER if TokenScope.APPROVE in scopes else TeamRole.MEMBER
    Membership.objects.update_or_create(team=team, user=identity, defaults={"role": role})
    return identity, role


def service_token_create(
    *,
    actor,
    team: Team,
    name: str,
    scopes,
    days: int | None = None,
    expires_at: datetime | None = None,
    not_after: datetime | None = None,
) -> Minted:
    """A token owned by `team` (for CI): its calls act as the service identity `name@team`,
    and every use is recorded in the audit store under that name."""
    if not permissions.can_manage_service_tokens(actor, team.pk):
        raise PermissionDenied("Only the team's admins and platform admins manage its tokens.")
    now = timezone.now()
    name, scopes, expires = _asked(name, scopes, days, expires_at, not_after, now, service=True)
    with transaction.atomic():
        identity, _ = _service_identity(actor=actor, team=team, name=name, scopes=scopes, now=now)
        return _mint(
            actor=actor,
            kind=TokenKind.SERVICE,
            name=name,
            user=identity,
            team=team,
            scopes=scopes,
            expires_at=expires,
            now=now,
        )


# --- rotation and revocation -----------------------------------------------------------------


def api_token_rotate(
    *,
    actor,
    token: ApiToken,
    overlap_hours: int | None = None,
    not_after: datetime | None = None,
) -> Minted:
    """A new key for the same token (name, owner, scopes, lifetime); the old key keeps working
    for `overlap_hours` (SSOPS_TOKEN_ROTATION_OVERLAP_HOURS), so that whoever uses it can
    switch without a failed call, then expires."""
    if not can_manage(actor, token):
        raise PermissionDenied(
            "Only the token's owner (a team admin for a team's token) rotates it."
        )
    if overlap_hours is None:
        overlap_hours = settings.TOKEN_ROTATION_OVERLAP_HOURS
    if isinstance(overlap_hours, bool) or not isinstance(overlap_hours, int):
        raise TokenInvalid({"overlap_hours": ["Give a whole number of hours."]})
    if not 0 <= overlap_hours <= MAX_OVERLAP_HOURS:
        raise TokenInvalid({"overlap_hours": [f"Use 0 to {MAX_OVERLAP_HOURS} hours."]})
    now = timezone.now()
    with transaction.atomic():
        # Only the token's row is locked (its team is an outer join, which FOR UPDATE refuses).
        old = (
            ApiToken.objects.select_for_update(of=("self",))
            .select_related("user", "team")
            .get(pk=token.pk)
        )
        if old.state(now) != "active":
            raise TokenInvalid({"token": [f"It is {old.state(now)}: make a new token instead."]})
        if ApiToken.objects.filter(rotated_from=old).exists():
            raise TokenInvalid({"token": ["It was rotated already: rotate its successor."]})
        lifetime = min(old.expires_at - old.created_at, timedelta(days=settings.TOKEN_MAX_DAYS))
        expires = now + lifetime if not_after is None else min(now + lifetime, not_after)
        minted = _mint(
            actor=actor,
            kind=old.kind,
            name=old.name,
            user=old.user,
            team=old.team,
            scopes=old.scopes,
            expires_at=expires,
            now=now,
            rotated_from=old,
        )
        old.expires_at = min(old.expires_at, now + timedelta(hours=overlap_hours))
        old.save(update_fields=["expires_at"])
        audit_record(
            action="token.rotated",
            actor=actor,
            obj=old,
            team=old.team,
            payload={
                **_describe(old),
                "valid_until": old.expires_at,
                "replaced_by": str(minted.token.uuid),
            },
        )
    return minted


def api_token_revoke(*, actor, token: ApiToken, reason: str = "") -> ApiToken:
    """Stop a token at once (idempotent: revoking a revoked token changes nothing)."""
    if actor is not None and not can_manage(actor, token):
        raise PermissionDenied(
            "Only the token's owner (a team admin for a team's token) revokes it."
        )
    reason = CONTROL.sub(" ", (reason or "").strip())[:200]
    with transaction.atomic():
        locked = (
            ApiToken.objects.select_for_update(of=("self",)).select_related("user").get(pk=token.pk)
        )
        if locked.revoked_at is not None:
            return locked
        locked.revoked_at = timezone.now()
        locked.revoked_by = _actor_or_none(actor)
        locked.revoke_reason = reason
        locked.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
        audit_record(
            action="token.revoked",
            actor=actor,
            obj=locked,
            team=locked.team_id,
            payload={**_describe(locked), "reason": reason},
        )
    return locked


def user_tokens_revoke(*, actor, user, reason: str) -> int:
    """Revoke every token that acts as `user` and still works; how many were revoked. For SSOps
    itself (`actor=None`, e.g. when a sign-in finds that the person lost every group giving
    access) and platform admins."""
    if actor is not None and not permissions.is_platform_admin(actor):
        raise PermissionDenied("Only platform admins revoke someone's tokens.")
    revoked = 0
    with transaction.atomic():
        for token in ApiToken.objects.filter(user=user).valid().select_related("user"):
            api_token_revoke(actor=actor, token=token, reason=reason)
            revoked += 1
    return revoked


# --- what authentication records -------------------------------------------------------------


def token_refusal_record(*, token: ApiToken, reason: str, where: dict) -> bool:
    """Record that an expired or revoked token was presented: once per token and hour (one
    conditional UPDATE decides, so concurrent calls record it once). True when recorded."""
    now = timezone.now()
    with transaction.atomic():
        first = (
            ApiToken.objects.filter(pk=token.pk)
            .filter(Q(refused_at__isnull=True) | Q(refused_at__lte=now - REFUSAL_EVERY))
            .update(refused_at=now)
        )
        if not first:
            return False
        audit_record(
            action="token.refused",
            obj=token,
            team=token.team_id,
            payload={**_describe(token), "reason": reason, **where},
        )
    return True


def token_use_record(*, token: ApiToken, where: dict) -> None:
    """A call authenticated by the token: a service token's every use is an audit event with
    the token's name as its actor; a personal token's last use is kept (to the minute, and
    always the first use after its owner left a team)."""
    now = timezone.now()
    if token.kind == TokenKind.SERVICE:
        with transaction.atomic():
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            audit_record(
                action="token.used",
                actor=token.user,
                obj=token,
                team=token.team_id,
                payload={"name": token.name, "shown_as": token.key_prefix, **where},
            )
        return
    last, left = token.last_used_at, token.owner_left_at
    if last is not None and last > now - USE_EVERY and (left is None or left <= last):
        return  # written less than a minute ago: no write on every call
    ApiToken.objects.filter(pk=token.pk).filter(
        Q(last_used_at__isnull=True)
        | Q(last_used_at__lte=now - USE_EVERY)
        | Q(owner_left_at__gt=F("last_used_at"))
    ).update(last_used_at=now)


def tokens_owner_left(*, user_id: int, team: Team | None, team_slug: str) -> int:
    """The tokens acting as the user, told that the user left a team (from the membership's
    deletion, in its transaction): a later use is flagged as an unexpected actor."""
    now = timezone.now()
    tokens = list(ApiToken.objects.filter(user_id=user_id).valid(now).select_related("user"))
    for token in tokens:
        ApiToken.objects.filter(pk=token.pk).update(owner_left_at=now, owner_left_team=team_slug)
        audit_record(
            action="token.owner_left_team",
            obj=token,
            team=team,
            payload={**_describe(token), "team": team_slug},
        )
    return len(tokens)


# --- expiry warnings (beat) ------------------------------------------------------------------


def _warning_recipients(token: ApiToken) -> list[str]:
    if token.kind == TokenKind.PERSONAL:
        return [token.user.email] if token.user.email else []
    admins = Membership.objects.filter(
        team_id=token.team_id, role=TeamRole.ADMIN, user__is_active=True
    ).exclude(user__email="")
    return sorted(admins.values_list("user__email", flat=True))


def _warning_mail(token: ApiToken, days_left: float, recipients: list[str]) -> None:
    where = (
        "accounts:service-token-list" if token.kind == TokenKind.SERVICE else "accounts:token-list"
    )
    page = settings.SSOPS_BASE_URL.rstrip("/") + reverse(where)
    whose = f"team {token.team.slug}'s service token" if token.team else "your API token"
    days = max(0, round(days_left))
    send_mail(
        subject=f"[SSOps] {whose} {token.name} expires in {days} day{'' if days == 1 else 's'}",
        message=(
            f"{whose[0].upper()}{whose[1:]} {token.name} ({token.key_prefix}…) expires on "
            f"{token.expires_at:%Y-%m-%d %H:%M} UTC. After that every call with it is refused.\n\n"
            f"Rotate it (a new key, the old one keeps working for a while) or make a new one: "
            f"{page}\n"
        ),
        from_email=None,
        recipient_list=recipients,
        fail_silently=True,
    )


def expiry_warnings_send(*, now: datetime | None = None) -> int:
    """Warn owners (a service token's team admins) SSOPS_TOKEN_WARNING_DAYS before a token
    expires, by e-mail, once per threshold; a token already rotated is not warned about (its
    successor is). Returns how many tokens were warned about."""
    now = now or timezone.now()
    thresholds = settings.TOKEN_WARNING_DAYS
    if not thresholds:
        return 0
    soon = (
        ApiToken.objects.valid(now)
        .filter(expires_at__lte=now + timedelta(days=max(thresholds)), rotated_to__isnull=True)
        .select_related("user", "team")
    )
    warned = 0
    for token in soon:
        left = (token.expires_at - now).total_seconds() / 86400
        reached = {days for days in thresholds if left <= days}
        if reached <= set(token.warnings_sent):
            continue
        recipients = _warning_recipients(token)
        with transaction.atomic():
            ApiToken.objects.filter(pk=token.pk).update(
                warnings_sent=sorted(set(token.warnings_sent) | reached, reverse=True)
            )
            audit_record(
                action="token.expiry_warning",
                obj=token,
                team=token.team_id,
                payload={
                    **_describe(token),
                    "expires_at": token.expires_at,
                    "days_left": round(left, 1),
                    "mailed_to": len(recipients),
                },
            )
            if recipients:
                transaction.on_commit(lambda t=token, r=recipients, d=left: _warning_mail(t, d, r))
        warned += 1
    return warned


# --- sign-in through the identity provider (accounts/oidc.py checks the protocol) ------------


@dataclass(frozen=True)
class OidcSignIn:
    """What a provider sign-in found: the user (None when a new person has no mapped group, so
    no account was made) and the roles the group map gives them (empty: refused)."""

    user: object | None
    roles: Roles


def oidc_username(claims: dict, issuer: str) -> str:
    """A user name no local account can hold: local names cannot contain `~` (Django's user
    name validator), and the suffix is derived from issuer and subject."""
    hint = claims.get("preferred_username") or (claims.get("email") or "").split("@")[0]
    base = re.sub(r"[^A-Za-z0-9.+-]", "", str(hint))[:40] or "user"
    suffix = hashlib.sha256(f"{issuer}\n{claims['sub']}".encode()).hexdigest()[:8]
    return f"{base}~{suffix}"


def _platform_groups(user) -> set[str]:
    return set(user.groups.filter(name__in=PlatformGroup.ALL).values_list("name", flat=True))


def _roles_apply(user, roles: Roles) -> tuple[dict, dict, list[str]]:
    """Make the user's platform groups and team roles exactly `roles`: (before, after, team
    slugs the map names that do not exist)."""
    have = _platform_groups(user)
    if roles.platform - have:
        user.groups.add(
            *[Group.objects.get_or_create(name=name)[0] for name in roles.platform - have]
        )
    if have - roles.platform:
        user.groups.remove(*Group.objects.filter(name__in=have - roles.platform))
    memberships = {
        m.team.slug: m for m in Membership.objects.select_related("team").filter(user=user)
    }
    before = Roles(frozenset(have), {slug: m.role for slug, m in memberships.items()})
    teams = {team.slug: team for team in Team.objects.filter(slug__in=list(roles.teams))}
    for slug, role in roles.teams.items():
        if slug not in teams:
            continue
        membership = memberships.get(slug)
        if membership is None:
            Membership.objects.create(team=teams[slug], user=user, role=role)
        elif membership.role != role:
            membership.role = role
            membership.save(update_fields=["role"])
    for slug, membership in memberships.items():
        if slug not in roles.teams or slug not in teams:
            membership.delete()
    after = Roles(roles.platform, {s: r for s, r in roles.teams.items() if s in teams})
    return before.as_dict(), after.as_dict(), sorted(set(roles.teams) - set(teams))


def oidc_sign_in(*, issuer: str, claims: dict) -> OidcSignIn:
    """The person the provider vouched for (`claims` verified by accounts/oidc.py): found by
    issuer and subject or made on first sign-in, with platform groups and team roles set from
    the provider's groups (the provider is the source of truth; roles set by hand are
    replaced). Someone with no mapped group keeps no role and no working token."""
    groups = claims.get(settings.OIDC_GROUPS_CLAIM) or []
    if isinstance(groups, str):
        groups = [groups]
    groups = [group for group in groups if isinstance(group, str)]
    roles = roles_for(groups, settings.OIDC_GROUP_MAP)
    now = timezone.now()
    with transaction.atomic():
        identity = (
            OidcIdentity.objects.select_for_update()
            .select_related("user")
            .filter(issuer=issuer, subject=claims["sub"])
            .first()
        )
        if identity is None:
            if not roles:
                return OidcSignIn(None, roles)
            user_model = get_user_model()
            username = oidc_username(claims, issuer)
            if user_model.objects.filter(username=username).exists():
                raise PermissionDenied(f"The user name {username} is taken.")
            user = user_model(
                username=username,
                email=str(claims.get("email") or "")[:254],
                first_name=str(claims.get("given_name") or claims.get("name") or "")[:150],
                last_name=str(claims.get("family_name") or "")[:150],
            )
            user.set_unusable_password()
            user.save()
            identity = OidcIdentity.objects.create(issuer=issuer, subject=claims["sub"], user=user)
            audit_record(
                action="accounts.oidc_user_created",
                obj=user,
                payload={"user": username, "issuer": issuer, "subject": claims["sub"]},
            )
        user = identity.user
        before, after, unknown = _roles_apply(user, roles)
        if before != after or identity.groups != groups:
            audit_record(
                action="accounts.oidc_roles_set",
                obj=user,
                payload={
                    "user": user.get_username(),
                    "groups": groups,
                    "before": before,
                    "after": after,
                    "unknown_teams": unknown,
                    "source": "identity provider",
                },
            )
        identity.groups = groups
        identity.last_sign_in_at = now
        identity.save(update_fields=["groups", "last_sign_in_at"])
        if not roles:
            user_tokens_revoke(
                actor=None, user=user, reason="lost every mapped group at the identity provider"
            )
    return OidcSignIn(user, roles)


def oidc_failure_record(*, reason: str, message: str, request_meta: dict, subject: str = ""):
    """Audit a refused provider sign-in (its own transaction: nothing else was written)."""
    with transaction.atomic():
        audit_record(
            action="auth.oidc_failed",
            object_type="accounts.oidcidentity",
            object_id=subject,
            payload={
                "reason": reason,
                "message": message,
                "ip": request_meta.get("REMOTE_ADDR", ""),
            },
        )


def id_token_spend(*, raw: str, claims: dict) -> bool:
    """Mark an ID token as traded; False when it was already (a replay). Its own transaction, so
    that the mark stays whatever the trade then decides."""
    now = timezone.now()
    expires = datetime.fromtimestamp(int(claims["exp"]), tz=UTC) + timedelta(minutes=5)
    digest = hashlib.sha256(raw.encode()).hexdigest()
    with transaction.atomic():
        SpentIdToken.objects.filter(expires_at__lt=now).delete()
        _, created = SpentIdToken.objects.get_or_create(
            digest=digest, defaults={"expires_at": expires}
        )
    return created
