"""Verification of the whole stored chain (used by audit_verify and the debug dashboard).

Rows are streamed in seq order as plain tuples (a server-side cursor on PostgreSQL, no model
instances), so memory stays flat however long the chain is. A long chain can be cut into
contiguous segments of seqs checked by parallel processes: each checks its own links and its
boundary (its first event must link to the last event before the segment), which together is
exactly the check of one pass over the whole chain.
"""

from __future__ import annotations

import multiprocessing
from dataclasses import dataclass, field, replace

from django.conf import settings
from django.db import connection, connections
from django.db.models import Max

from audit import chain
from audit.models import AuditCheckpoint, AuditEvent

_FETCH = 5000
# Below this many events per process, starting a process costs more than it saves.
SEGMENT_MIN = 100_000


@dataclass
class Report:
    count: int = 0
    head_hash: str = chain.GENESIS
    checkpoints: int = 0
    processes: int = 1
    problems: list[chain.Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _links(first: int, last: int):
    """(seq, prev_hash, hash, body) of the events with first < seq <= last, in seq order."""
    rows = AuditEvent.objects.filter(seq__gt=first, seq__lte=last).order_by("seq")
    return rows.values_list("seq", "prev_hash", "hash", "body").iterator(chunk_size=_FETCH)


def _hash_before(seq: int) -> str:
    """The hash the event after `seq` must link to: that of the last event at or before it."""
    found = AuditEvent.objects.filter(seq__lte=seq).order_by("-seq").values_list("hash", flat=True)
    return found.first() or chain.GENESIS


def verify_segment(first: int, last: int) -> tuple[list[chain.Problem], int, str]:
    """Check the events with first < seq <= last, and their link to the event before them."""
    return chain.verify_links(_links(first, last), expected=_hash_before(first))


def _segment_in_child(bounds: tuple[int, int]) -> tuple[list[chain.Problem], int, str]:
    try:
        return verify_segment(*bounds)
    finally:
        connections.close_all()


def _segments(last: int, processes: int, segment_min: int) -> list[tuple[int, int]]:
    """Contiguous seq ranges (first, last], as many as processes while each keeps segment_min
    seqs; one range covering everything when the chain is short or processes == 1."""
    wanted = max(1, min(processes, last // max(segment_min, 1)))
    if wanted == 1 or not _may_fork():
        return [(0, last)]
    cuts = [last * k // wanted for k in range(wanted + 1)]
    return list(zip(cuts, cuts[1:], strict=False))


def _may_fork() -> bool:
    """Child processes read through connections of their own, so they see only what is
    committed, and nothing of an in-memory SQLite database: verify in this process then."""
    if connection.in_atomic_block:
        return False
    return not (connection.vendor == "sqlite" and connection.is_in_memory_db())


def _verify_links(
    last: int, processes: int, segment_min: int
) -> tuple[list[chain.Problem], int, str, int]:
    segments = _segments(last, processes, segment_min)
    if len(segments) == 1:
        return (*verify_segment(*segments[0]), 1)
    connections.close_all()  # the children must not share this process's connection
    with multiprocessing.get_context("fork").Pool(len(segments)) as pool:
        results = pool.map(_segment_in_child, segments)
    problems = [p for found, _, _ in results for p in found]
    head = next((h for _, n, h in reversed(results) if n), chain.GENESIS)
    return problems, sum(n for _, n, _ in results), head, len(segments)


def verify_chain(*, processes: int = 1, segment_min: int = SEGMENT_MIN) -> Report:
    """Stream the chain once (in up to `processes` parallel segments of at least `segment_min`
    events); only if a link is broken, load the links again to explain it."""
    report = Report()
    last_seq = AuditEvent.objects.aggregate(last=Max("seq"))["last"] or 0
    problems, report.count, report.head_hash, report.processes = _verify_links(
        last_seq, processes, segment_min
    )
    changed = [p for p in problems if p.kind == "changed"]
    if any(p.kind == "link" for p in problems):
        links = AuditEvent.objects.order_by("seq").values_list("seq", "uuid", "prev_hash", "hash")
        changed += chain.explain_breaks(
            [
                chain.StoredEvent(seq, uuid or "", prev_hash, hash_, "")
                for seq, uuid, prev_hash, hash_ in links.iterator(chunk_size=_FETCH)
            ]
        )
    checkpoints = [
        chain.Checkpoint(cp.size, cp.head_hash, cp.signed_at, cp.signature)
        for cp in AuditCheckpoint.objects.all()
    ]
    report.checkpoints = len(checkpoints)
    hash_at = dict(
        AuditEvent.objects.filter(seq__in={cp.size for cp in checkpoints}).values_list(
            "seq", "hash"
        )
    )
    problems = changed + chain.check_checkpoints(
        settings.AUDIT_HMAC_KEY, checkpoints, hash_at, last_seq
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
