"""Audit store benchmark.

append_per_s: events appended per second by one writer on SQLite, each in its own transaction,
chain included (head lookup, hash, insert, commit).
verify_vs_sha256: events verified per second by the chain check that audit_verify streams its
rows through (hash and link check per event, rows already read), over the rate of raw hashlib
SHA-256 on the same canonical bytes, in the same run: the cost of verification beyond hashing.
verify_end_to_end_vs_sha256: the same ratio for the whole audit_verify pass, reading the rows
from SQLite included (the database read costs more than the hash itself).
"""

from __future__ import annotations

import hashlib
import json
import time

from _setup import arguments, django_with_fresh_sqlite


def main() -> None:
    args = arguments(__doc__)
    django_with_fresh_sqlite("audit")
    from django.db import connection

    from audit import chain
    from audit.services import audit_record
    from audit.verify import verify_chain

    n = 5_000 if args.quick else 50_000
    payload = {
        "template": "postgres-database",
        "version": "1.2.0",
        "params": {"name": "orders", "size": "small"},
    }

    started = time.perf_counter()
    for i in range(n):
        audit_record(
            action="request.submitted",
            object_type="catalog.request",
            object_id=str(i),
            payload=payload,
        )
    append_seconds = time.perf_counter() - started

    with connection.cursor() as cursor:
        cursor.execute("SELECT seq, prev_hash, hash, body FROM audit_auditevent ORDER BY seq")
        rows = cursor.fetchall()
    canonical = [(prev + body).encode() for _, prev, _, body in rows]
    rounds = 3
    sha256 = hashlib.sha256
    raw_seconds = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for data in canonical:
            sha256(data).hexdigest()
        raw_seconds = min(raw_seconds, time.perf_counter() - started)

    chain_seconds = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        problems, count, _ = chain.verify_links(rows)
        chain_seconds = min(chain_seconds, time.perf_counter() - started)
    assert not problems and count == n

    verify_seconds = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        report = verify_chain()
        verify_seconds = min(verify_seconds, time.perf_counter() - started)
    assert report.ok and report.count == n, report.problems[:3]

    figures = {
        "events": n,
        "append_per_s": round(n / append_seconds),
        "sha256_per_s": round(n / raw_seconds),
        "verify_per_s": round(n / chain_seconds),
        "verify_vs_sha256": round(raw_seconds / chain_seconds, 3),
        "verify_end_to_end_per_s": round(n / verify_seconds),
        "verify_end_to_end_vs_sha256": round(raw_seconds / verify_seconds, 3),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
