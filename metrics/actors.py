"""Unexpected actors (failure mode F3: a guardrail bypassed): a beat job reads the audit trail
from where it stopped and flags each event whose actor should not be there —

- `no_role`: a write to a team's object by someone with no role in that team (platform admins
  act everywhere; on-call runs runbooks, handles incidents and re-applies drifted resources
  for any team);
- `admin_outside_platform`: a change made in Django's admin site by someone outside
  platform-admin (staff status alone is not enough);
- `break_glass_no_incident`: a break-glass approval while no incident was open for the
  request's team (or for the whole platform);

— and each token used after its owner left a team (`token_after_leaving`: the token's owner,
a person or a service identity, was removed from a team, and the token was used since).

Each is flagged once (rule and key unique), listed on the on-call page and in
`/api/unexpected-actors/`, and sent to Alertmanager as a ticket alert (kept a day), retried
at the next run until it arrives. Roles are those at the event's time: today's memberships with
when they began, and the removals the audit trail records (`team.membership_removed`). The
first scan reads the whole trail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import ApiToken
from audit.models import AuditEvent
from audit.services import audit_record
from metrics.choices import ActorRule
from metrics.models import AuditWatch, Incident, UnexpectedActor
from slo.services.alerts import alert_send
from teams.choices import PlatformGroup
from teams.models import Membership, Team

WATCH = "unexpected_actors"
ALERT_NAME = "UnexpectedActor"
ALERT_FOR = timedelta(days=1)
ALERTS_PER_RUN = 200
# Not writes to a team's objects: sign-ins, refusals, and a service token's own use (its
# identity leaving the team is the token rule's business).
NOT_WRITES = ("auth.", "authz.", "authn.", "token.used", "token.refused", "token.owner_left")
# What on-call does for any team.
ONCALL_ACTIONS = ("runbook_run.", "run.", "incident.", "drift.reapply")


@dataclass(frozen=True)
class Found:
    rule: str
    key: str
    actor: str
    actor_id: int | None
    team_id: int | None
    occurred_at: datetime
    detail: str
    event_seq: int | None = None
    action: str = ""
    object_type: str = ""
    object_id: str = ""


class Roles:
    """Who has which role, read once per run."""

    def __init__(self):
        User = get_user_model()
        self.platform_admins = set(
            User.objects.filter(
                Q(is_superuser=True) | Q(groups__name=PlatformGroup.ADMIN)
            ).values_list("pk", flat=True)
        )
        self.oncall = set(
            User.objects.filter(groups__name=PlatformGroup.ONCALL).values_list("pk", flat=True)
        )
        self.since = {
            (team, user): created
            for team, user, created in Membership.objects.values_list(
                "team_id", "user_id", "created_at"
            )
        }

    def had_role(self, team_id: int, user_id: int, seq: int, at: datetime) -> bool:
        """A member of the team at that moment: one now who joined before it, or one whose
        membership, begun before it, was removed after it (the audit trail says when)."""
        joined = self.since.get((team_id, user_id))
        if joined is not None and joined <= at:
            return True
        removals = AuditEvent.objects.filter(
            action="team.membership_removed", team_id=team_id, seq__gt=seq
        )
        return any(
            removal.payload.get("user_id") == user_id
            and _moment(removal.payload.get("member_since") or removal.ts) <= at
            for removal in removals
        )


def _moment(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).astimezone(UTC)


def _judge(event: AuditEvent, roles: Roles) -> Found | None:
    action, actor_id = event.action, event.actor_id
    if actor_id is None:
        return None  # SSOps itself
    common = {
        "key": str(event.seq),
        "actor": event.actor_name,
        "actor_id": actor_id,
        "team_id": event.team_id,
        "occurred_at": _moment(event.ts),
        "event_seq": event.seq,
        "action": action,
        "object_type": event.object_type,
        "object_id": event.object_id,
    }
    if action.startswith("admin.") and actor_id not in roles.platform_admins:
        return Found(
            ActorRule.ADMIN_OUTSIDE_PLATFORM,
            detail=f"{event.actor_name} changed {event.object_type} {event.object_id} in the "
            "admin site without being a platform admin",
            **common,
        )
    if (
        action == "request.approved"
        and event.payload.get("break_glass")
        and not _incident_open(event.team_id, common["occurred_at"])
    ):
        return Found(
            ActorRule.BREAK_GLASS_OUTSIDE_INCIDENT,
            detail=f"{event.actor_name} broke glass on request {event.object_id} while no "
            "incident was open for its team",
            **common,
        )
    if (
        event.team_id is not None
        and not action.startswith(NOT_WRITES)
        and actor_id not in roles.platform_admins
        and not (actor_id in roles.oncall and action.startswith(ONCALL_ACTIONS))
        and not roles.had_role(event.team_id, actor_id, event.seq, common["occurred_at"])
    ):
        return Found(
            ActorRule.NO_ROLE,
            detail=f"{event.actor_name} did {action} on {event.object_type} {event.object_id} "
            "with no role in the team",
            **common,
        )
    return None


def _incident_open(team_id: int | None, at: datetime) -> bool:
    return (
        Incident.objects.filter(opened_at__lte=at)
        .filter(Q(resolved_at__isnull=True) | Q(resolved_at__gte=at))
        .filter(Q(team__isnull=True) | Q(team_id=team_id))
        .exists()
    )


def _tokens_used_after_leaving() -> list[Found]:
    tokens = (
        ApiToken.objects.filter(owner_left_at__isnull=False, last_used_at__gt=F("owner_left_at"))
        .select_related("user")
        .order_by("pk")
    )
    teams = dict(Team.objects.values_list("slug", "pk"))
    return [
        Found(
            ActorRule.TOKEN_AFTER_LEAVING,
            key=f"{token.uuid}@{token.owner_left_at.isoformat()}",
            actor=token.user.get_username(),
            actor_id=token.user_id,
            team_id=teams.get(token.owner_left_team),
            occurred_at=token.last_used_at,
            detail=f"{token.kind} token {token.name} ({token.key_prefix}…) of "
            f"{token.user.get_username()} was used at {token.last_used_at:%Y-%m-%d %H:%M} UTC, "
            f"after its owner left team {token.owner_left_team or '(deleted)'} at "
            f"{token.owner_left_at:%Y-%m-%d %H:%M} UTC",
            object_type="accounts.apitoken",
            object_id=str(token.uuid),
        )
        for token in tokens
    ]


def unexpected_actors_scan(*, now: datetime | None = None) -> dict:
    """Read the audit trail since the last run, flag what the rules find (once each), and send
    the alerts not delivered yet."""
    now = now or timezone.now()
    watch, _ = AuditWatch.objects.get_or_create(name=WATCH)
    head = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    roles = Roles()
    found: list[Found] = []
    events = (
        AuditEvent.objects.filter(seq__gt=watch.seq, seq__lte=head, actor_id__isnull=False)
        .filter(Q(team_id__isnull=False) | Q(action__startswith="admin."))
        .order_by("seq")
    )
    for event in events.iterator(chunk_size=2000):
        judged = _judge(event, roles)
        if judged is not None:
            found.append(judged)
    found += _tokens_used_after_leaving()
    new = 0
    with transaction.atomic():
        if AuditWatch.objects.filter(pk=watch.pk, seq=watch.seq).update(seq=head) != 1:
            return {"read_to": watch.seq, "new": 0, "alerted": 0, "skipped": "another run"}
        known = set(UnexpectedActor.objects.values_list("rule", "key"))
        for item in found:
            if (item.rule, item.key) in known:
                continue
            flagged = UnexpectedActor.objects.create(
                rule=item.rule,
                key=item.key,
                event_seq=item.event_seq,
                actor=item.actor,
                actor_id=item.actor_id,
                team_id=item.team_id,
                action=item.action,
                object_type=item.object_type,
                object_id=item.object_id,
                occurred_at=item.occurred_at,
                detail=item.detail,
                found_at=now,
            )
            audit_record(
                action="audit.unexpected_actor",
                object_type="metrics.unexpectedactor",
                object_id=str(flagged.uuid),
                team=item.team_id,
                payload={
                    "rule": item.rule,
                    "actor": item.actor,
                    "event_seq": item.event_seq,
                    "detail": item.detail,
                },
            )
            known.add((item.rule, item.key))
            new += 1
    return {"read_to": head, "new": new, "alerted": unexpected_actor_alerts_send(now=now)}


def unexpected_actor_alert_payload(*, flagged: UnexpectedActor) -> dict:
    page = f"{settings.SSOPS_BASE_URL.rstrip('/')}/dashboards/oncall/#actors-heading"
    return {
        "labels": {
            "alertname": ALERT_NAME,
            "severity": "ticket",
            "rule": flagged.rule,
            "actor": flagged.actor,
            "team": flagged.team.slug if flagged.team else "",
            "finding": str(flagged.uuid),
        },
        "annotations": {
            "summary": f"Unexpected actor: {flagged.get_rule_display().lower()}",
            "description": flagged.detail
            + (f" (audit event #{flagged.event_seq})" if flagged.event_seq else ""),
            "dashboard_url": page,
        },
        "startsAt": _iso(flagged.found_at),
        "endsAt": _iso(flagged.found_at + ALERT_FOR),
        "generatorURL": page,
    }


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def unexpected_actor_alerts_send(*, now: datetime) -> int:
    """Post each finding's ticket alert once (those whose alert would already have ended are
    not sent); how many arrived. Without ALERTMANAGER_URL nothing is sent and nothing marked;
    after a failure the rest wait for the next run."""
    if not settings.ALERTMANAGER_URL:
        return 0
    waiting = UnexpectedActor.objects.filter(
        alerted_at__isnull=True, found_at__gt=now - ALERT_FOR
    ).select_related("team")
    sent = 0
    for flagged in waiting.order_by("id")[:ALERTS_PER_RUN]:
        payload = unexpected_actor_alert_payload(flagged=flagged)
        if not alert_send(payload, what="unexpected-actor alert"):
            break
        UnexpectedActor.objects.filter(pk=flagged.pk).update(alerted_at=now)
        sent += 1
    return sent
