"""Verification of the whole stored chain (used by audit_verify and the debug dashboard)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from django.conf import settings
from django.db import connection

from audit import chain
from audit.models import AuditCheckpoint, AuditEvent

_FETCH = 5000


@dataclass
class Report:
    count: int = 0
    head_hash: str = chain.GENESIS
    checkpoints: int = 0
    problems: list[chain.Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _rows(columns: str):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM audit_auditevent ORDER BY seq")
        while rows := cursor.fetchmany(_FETCH):
            yield from rows


def verify_chain() -> Report:
    """Stream the chain once; only if a link is broken, load the links again to explain it."""
    report = Report()
    problems, report.count, report.head_hash = chain.verify_links(
        _rows("seq, prev_hash, hash, body")
    )
    changed = [p for p in problems if p.kind == "changed"]
    if any(p.kind == "link" for p in problems):
        links = [
            chain.StoredEvent(seq, uuid or "", prev_hash, hash_, "")
            for seq, uuid, prev_hash, hash_ in _rows("seq, uuid, prev_hash, hash")
        ]
        changed += chain.explain_breaks(links)
    checkpoints = [
        chain.Checkpoint(cp.size, cp.head_hash, cp.signed_at, cp.signature)
        for cp in AuditCheckpoint.objects.all()
    ]
    report.checkpoints = len(checkpoints)
    hash_at = dict(_checkpoint_hashes({cp.size for cp in checkpoints}))
    problems = changed + chain.check_checkpoints(
        settings.AUDIT_HMAC_KEY, checkpoints, hash_at, _last_seq()
    )
    report.problems = sorted(_with_ids(problems), key=lambda p: (p.seq or 0, p.kind))
    return report


def _with_ids(problems: list[chain.Problem]) -> list[chain.Problem]:
    """Problems from the streaming pass know only seqs: add the events' public ids."""
    missing = {p.seq for p in problems if not p.uuid and p.seq and p.kind in {"changed"}}
    if not missing:
        return problems
    ids = dict(AuditEvent.objects.filter(seq__in=missing).values_list("seq", "uuid"))
    return [replace(p, uuid=ids.get(p.seq, "")) if p.seq in missing else p for p in problems]


def _checkpoint_hashes(sizes: set[int]):
    if not sizes:
        return []
    with connection.cursor() as cursor:
        marks = ",".join(["%s"] * len(sizes))
        cursor.execute(
            f"SELECT seq, hash FROM audit_auditevent WHERE seq IN ({marks})", list(sizes)
        )
        return cursor.fetchall()


def _last_seq() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(seq), 0) FROM audit_auditevent")
        return cursor.fetchone()[0]
