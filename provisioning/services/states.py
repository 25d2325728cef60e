"""One way to change the state of a run, step, resource or runbook run: a conditional UPDATE
from the state the caller saw, then the timeline row and the audit event in the same
transaction (the row keeps the event's seq, so audit completeness can be checked)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import models, transaction
from django.utils import timezone

from audit.services import audit_record


@dataclass(frozen=True)
class Change:
    """What to record with a state change: the audit action, the timeline model and the
    timeline row's owner (e.g. {"run": run}), who and why."""

    action: str
    transition: type[models.Model]
    link: dict
    actor: object = None
    reason: str = ""
    team: object = None
    payload: dict = field(default_factory=dict)


def _record(obj: models.Model, from_state: str, to_state: str, change: Change) -> None:
    actor = change.actor
    event = audit_record(
        action=change.action,
        actor=actor,
        obj=obj,
        team=change.team,
        payload={"from": from_state, "to": to_state, "reason": change.reason, **change.payload},
    )
    change.transition._default_manager.create(
        **change.link,
        from_state=from_state,
        to_state=to_state,
        actor=actor if actor is not None and actor.is_authenticated else None,  # type: ignore[attr-defined]
        reason=change.reason,
        audit_seq=event.seq,
    )


def state_change(
    obj: models.Model, *, to_state: str, change: Change, fields: dict | None = None
) -> bool:
    """Move `obj` from the state it holds in memory to `to_state` (saving `fields` with it);
    False, and nothing written, when another transaction moved it first."""
    from_state = obj.state  # type: ignore[attr-defined]
    updates = {"state": to_state, **(fields or {})}
    if any(f.name == "updated_at" for f in obj._meta.fields):
        updates["updated_at"] = timezone.now()
    with transaction.atomic(savepoint=False):
        if not type(obj)._default_manager.filter(pk=obj.pk, state=from_state).update(**updates):
            return False
        for name, value in updates.items():
            setattr(obj, name, value)
        _record(obj, from_state, to_state, change)
    return True


def first_state(obj: models.Model, *, change: Change) -> None:
    """Record the state a new object was created in (∅ → state)."""
    _record(obj, "", obj.state, change)  # type: ignore[attr-defined]
