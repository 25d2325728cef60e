"""The audit hash chain: canonical encoding, link hashes, signed checkpoints and verification.

Pure functions with no Django imports. Each event's hash is SHA-256 over its predecessor's hash
and its canonical body (sorted-key compact JSON); the sequence number is the storage position and
is deliberately outside the hash, so that a reordering shows as links that point elsewhere
rather than as changed content. A chain alone cannot show a cut tail, so checkpoints sign the
chain's size and head hash with an HMAC key kept outside the table.
"""

from __future__ import annotations

import bisect
import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64


def canonical_body(content: dict[str, Any]) -> str:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def link_hash(prev_hash: str, body: str) -> str:
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def checkpoint_message(size: int, head_hash: str, signed_at: str) -> bytes:
    return f"ssops-audit-checkpoint:v1:{size}:{head_hash}:{signed_at}".encode()


def sign_checkpoint(key: str, size: int, head_hash: str, signed_at: str) -> str:
    return hmac.new(
        key.encode(), checkpoint_message(size, head_hash, signed_at), "sha256"
    ).hexdigest()


@dataclass(frozen=True, slots=True)
class StoredEvent:
    seq: int
    uuid: str
    prev_hash: str
    hash: str
    body: str


@dataclass(frozen=True, slots=True)
class Checkpoint:
    size: int
    head_hash: str
    signed_at: str
    signature: str


@dataclass(frozen=True, slots=True)
class Problem:
    kind: str  # changed | missing | inserted | reordered | tail-cut | bad-checkpoint
    seq: int | None
    uuid: str
    detail: str

    def line(self) -> str:
        where = f"seq {self.seq} event {self.uuid}" if self.uuid else f"seq {self.seq}"
        return f"{self.kind.upper()}: {where}: {self.detail}"


def _longest_increasing(positions: list[int]) -> set[int]:
    """Indexes (into positions) of one longest strictly increasing subsequence."""
    tails: list[int] = []
    tail_index: list[int] = []
    parent = [-1] * len(positions)
    for i, value in enumerate(positions):
        k = bisect.bisect_left(tails, value)
        if k == len(tails):
            tails.append(value)
            tail_index.append(i)
        else:
            tails[k] = value
            tail_index[k] = i
        parent[i] = tail_index[k - 1] if k > 0 else -1
    keep: set[int] = set()
    i = tail_index[-1] if tail_index else -1
    while i >= 0:
        keep.add(i)
        i = parent[i]
    return keep


def verify_links(
    rows: Iterable[tuple[int, str, str, str]], expected: str = GENESIS
) -> tuple[list[Problem], int, str]:
    """Check every event's own hash and its link to the one before, in one streaming pass.

    rows are (seq, prev_hash, hash, body) in seq order; the first must link to `expected` (the
    hash of the event before them: GENESIS for a whole chain, the boundary for a segment).
    Returns (problems, count, head hash); problems name seqs only (the caller adds ids). A
    broken link is reported as kind "link": run `explain_breaks` over the whole chain to
    classify it. The pass does little besides hashing, so that the common case stays cheap.
    """
    problems: list[Problem] = []
    count = 0
    sha256 = hashlib.sha256
    for seq, prev_hash, hash_, body in rows:
        count += 1
        if sha256((prev_hash + body).encode()).hexdigest() != hash_:
            problems.append(Problem("changed", seq, "", "content no longer matches its hash"))
        if prev_hash != expected:
            problems.append(Problem("link", seq, "", "link broken"))
        expected = hash_
    return problems, count, expected


def explain_breaks(events: list[StoredEvent]) -> list[Problem]:
    """Classify broken links as missing, inserted, rewritten or reordered events.

    Works on the whole chain in memory (bodies are not needed). Only called when the streaming
    pass found a broken link, so the common case stays a single cheap pass.
    """
    by_hash = {event.hash: index for index, event in enumerate(events)}
    pointed_to = {event.prev_hash for event in events}
    problems: list[Problem] = []

    def before(index: int) -> str:
        return events[index - 1].hash if index else GENESIS

    # Inserted: nobody links to it and its successor links straight past it.
    inserted = {
        index
        for index in range(len(events) - 1)
        if events[index].hash not in pointed_to and events[index + 1].prev_hash == before(index)
    }
    for index in sorted(inserted):
        event = events[index]
        problems.append(
            Problem("inserted", event.seq, event.uuid, "no event links to it; the chain skips it")
        )

    # Links to a hash no stored event has: events were deleted, or the one before was rewritten
    # and re-hashed (then nobody links to it and no sequence number is missing).
    for index, event in enumerate(events):
        if index in inserted or event.prev_hash == GENESIS or event.prev_hash in by_hash:
            continue
        previous_seq = events[index - 1].seq if index else 0
        gap = event.seq - previous_seq - 1
        if gap == 0 and index and events[index - 1].hash not in pointed_to:
            rewritten = events[index - 1]
            problems.append(
                Problem(
                    "changed",
                    rewritten.seq,
                    rewritten.uuid,
                    "rewritten and re-hashed: the next event links to its original hash",
                )
            )
            continue
        what = (
            f"{gap} event(s), seq {previous_seq + 1}..{event.seq - 1}," if gap > 0 else "an event"
        )
        problems.append(
            Problem(
                "missing",
                event.seq,
                event.uuid,
                f"{what} missing before it: it links to a hash no stored event has",
            )
        )

    # Reordered: follow the links to get the chain's own order, then report the fewest events
    # whose storage position disagrees with it (the complement of a longest increasing run).
    successor: dict[str, int] = {}
    for index, event in enumerate(events):
        successor.setdefault(event.prev_hash, index)
    chain_position = [-1] * len(events)
    position = 0
    for start, event in enumerate(events):
        if event.prev_hash != GENESIS and event.prev_hash in by_hash:
            continue
        walk: int | None = start
        while walk is not None and chain_position[walk] == -1:
            chain_position[walk] = position
            position += 1
            walk = successor.get(events[walk].hash)
    for index, value in enumerate(chain_position):
        if value == -1:  # a cycle or an unreachable fork: it cannot be in order
            chain_position[index] = position
            position += 1
    candidates = [i for i in range(len(events)) if i not in inserted]
    keep = _longest_increasing([chain_position[i] for i in candidates])
    for k, index in enumerate(candidates):
        if k in keep:
            continue
        event = events[index]
        linked = by_hash.get(event.prev_hash)
        where = f"after seq {events[linked].seq}" if linked is not None else "at the start"
        problems.append(
            Problem(
                "reordered", event.seq, event.uuid, f"stored out of order: its link puts it {where}"
            )
        )
    return sorted(problems, key=lambda p: (p.seq or 0, p.kind))


def check_checkpoints(
    key: str, checkpoints: Iterable[Checkpoint], hash_at: dict[int, str], size: int
) -> list[Problem]:
    """Every signed checkpoint must verify and match the chain at its size."""
    problems = []
    for cp in checkpoints:
        expected = sign_checkpoint(key, cp.size, cp.head_hash, cp.signed_at)
        if not hmac.compare_digest(expected, cp.signature):
            problems.append(
                Problem(
                    "bad-checkpoint",
                    cp.size,
                    "",
                    f"checkpoint signed {cp.signed_at} has a bad signature",
                )
            )
            continue
        if cp.size > size:
            problems.append(
                Problem(
                    "tail-cut",
                    cp.size,
                    "",
                    f"checkpoint signed {cp.signed_at} covers {cp.size} "
                    f"events but the chain holds {size}: events after seq {size} were removed",
                )
            )
        elif cp.size and hash_at.get(cp.size) != cp.head_hash:
            problems.append(
                Problem(
                    "changed",
                    cp.size,
                    "",
                    f"event at seq {cp.size} differs from the head "
                    f"signed by the checkpoint of {cp.signed_at}",
                )
            )
    return problems
