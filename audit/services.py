"""Writes to the audit store. Call `audit_record` inside the caller's transaction."""

from __future__ import annotations

import contextlib
import json
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction

from audit import chain
from audit.models import AuditCheckpoint, AuditEvent
from core import context
from core.masking import mask

# Any constant works; it names the advisory lock that serialises appends on PostgreSQL.
_PG_APPEND_LOCK = 0x55_0A_0D_17


def _now_text() -> str:
    return datetime.now(tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _plain(value: Any) -> Any:
    """JSON-safe copy (UUIDs, datetimes and Decimals become strings) with secrets masked."""
    return json.loads(json.dumps(mask(value), cls=DjangoJSONEncoder))


def _lock_head(cursor) -> tuple[int, str]:
    """Serialise appends and return the current head (seq, hash).

    PostgreSQL: a transaction-level advisory lock, then the head in a statement of its own (in
    READ COMMITTED each statement sees what was committed before it began: read in the same
    statement as the lock, the head could predate the append that held the lock). SQLite:
    IMMEDIATE transactions (settings) already hold the single write lock from BEGIN.
    """
    if connection.vendor == "postgresql":
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PG_APPEND_LOCK])
    cursor.execute("SELECT seq, hash FROM audit_auditevent ORDER BY seq DESC LIMIT 1")
    row = cursor.fetchone()
    return (row[0], row[1]) if row else (0, chain.GENESIS)


def _describe(obj: Any) -> tuple[str, str]:
    if obj is None:
        return "", ""
    meta = obj._meta
    public = getattr(obj, "uuid", None) or getattr(obj, "slug", None) or obj.pk
    return f"{meta.app_label}.{meta.model_name}", str(public)


def audit_record(
    *,
    action: str,
    actor=None,
    obj: Any = None,
    object_type: str = "",
    object_id: str = "",
    team: Any = None,
    payload: dict | None = None,
) -> AuditEvent:
    """Append one event to the chain, inside the caller's transaction.

    `actor` is a user (or None for the system); `obj` names the object (or pass object_type and
    object_id); `team` is a Team or a team id; the payload is masked for secrets before storage.
    Inside an `audit_batch` block the event is appended when the block ends (its `seq` is None
    until then).
    """
    if not action:
        raise ValueError("audit_record needs an action")
    if obj is not None:
        object_type, object_id = _describe(obj)
    team_id = getattr(team, "pk", team)
    actor_id = actor.pk if actor is not None and actor.is_authenticated else None
    actor_name = actor.get_username() if actor_id is not None else "system"
    content = {
        "v": 1,
        "uuid": str(uuid.uuid4()),
        "ts": _now_text(),
        "actor_id": actor_id,
        "actor": actor_name,
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "team_id": team_id,
        "request_id": context.get_request_id(),
        "trace_id": context.get_trace_id(),
        "payload": _plain(payload or {}),
    }
    event = AuditEvent(seq=None, body=chain.canonical_body(content))
    pending = _batch.get()
    if pending is not None:
        pending.append(event)
    else:
        _append([event])
    return event


_batch: ContextVar[list[AuditEvent] | None] = ContextVar("audit_batch", default=None)


@contextlib.contextmanager
def audit_batch():
    """Append the events recorded in the block together when it ends: one look at the head and
    one INSERT for all of them, in the order they were recorded (a submission records three).
    Use inside the caller's transaction; if the block raises, nothing is appended. A nested
    block joins the outer one."""
    if _batch.get() is not None:
        yield
        return
    pending: list[AuditEvent] = []
    token = _batch.set(pending)
    try:
        yield
    finally:
        _batch.reset(token)
    if pending:
        _append(pending)


_INSERT = "INSERT INTO audit_auditevent (seq, body, prev_hash, hash) VALUES (%s, %s, %s, %s)"


def _append(events: list[AuditEvent]) -> None:
    """Link the events to the head of the chain and insert them (under the append lock).

    No savepoint of its own: an append that fails leaves the caller's transaction to be rolled
    back whole (a state change must not commit without its event, even if the caller catches
    the error), and on PostgreSQL a SAVEPOINT and its RELEASE are two more round trips.
    """
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        seq, head = _lock_head(cursor)
        for event in events:
            seq += 1
            event.seq, event.prev_hash = seq, head
            event.hash = head = chain.link_hash(head, event.body)
            event._state.adding = False
            event._state.db = connection.alias
        # A plain INSERT: the ORM's save adds a third of the append's cost for nothing here
        # (the generated columns are read back lazily, only when asked for). One event (the
        # common case) in one statement: executemany pipelines even a single row, with a
        # synchronisation of its own on PostgreSQL.
        rows = [[event.seq, event.body, event.prev_hash, event.hash] for event in events]
        if len(rows) == 1:
            cursor.execute(_INSERT, rows[0])
        else:
            cursor.executemany(_INSERT, rows)


def audit_checkpoint_create() -> AuditCheckpoint:
    """Sign the current head so that a later cut of the tail is detected."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            size, head = _lock_head(cursor)
        signed_at = _now_text()
        checkpoint = AuditCheckpoint.objects.create(
            size=size,
            head_hash=head,
            signed_at=signed_at,
            signature=chain.sign_checkpoint(settings.AUDIT_HMAC_KEY, size, head, signed_at),
        )
    return checkpoint
