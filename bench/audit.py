"""Audit store benchmark, on SQLite or (--postgres) PostgreSQL: appends and verification, each
against its floor measured on the same database in the same run.

append_ratio:  events appended per second through `audit_record`, one writer, each in its own
               transaction (append lock, head lookup, hash, INSERT into the indexed audit table,
               COMMIT), over the rate of a bare INSERT + COMMIT of a row of the same size into a
               table with a primary key only, same connection and settings. They alternate in
               slices (with the next one), so that whatever else the machine does weighs on all
               alike.
table_ratio, append_over_table_ratio: the same row INSERTed + COMMITted into a table with the
               audit table's schema (its ten generated columns, seven indexes and unique hash;
               no chain), over the bare INSERT — what the schema costs — and the appends over
               it — what the chain (lock, head, hash, Python) costs on top.
verify_ratio:  events per second of `manage.py audit_verify` end to end (rows read from the
               database, every hash and link checked, checkpoints, the summary), over the rate of
               raw hashlib SHA-256 of the same bytes (prev_hash + body) on one core. The chain is
               the appended events followed by a long chain written in bulk (1,000,000 events in
               all without --quick). audit_verify runs with as many processes as CPUs
               (`verify_processes`); `verify_ratio_per_process` divides by them, and
               `verify_ratio_one_process` is the same pass with --processes 1.

Checks (exit 1 on failure): audit_verify exits 0 and counts every event; its head hash equals
the last hash the SHA-256 pass computed, and every hash that pass computed equals the stored one.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import time
import uuid

from _setup import Checks, arguments, django_with_fresh_database, finish

PAYLOAD = {
    "template": "postgres-database",
    "version": "1.2.0",
    "params": {"name": "orders", "size": "small"},
}
SLICES = 4
CHUNK = 50_000


def content(number: int) -> dict:
    """An event's content as audit_record writes it."""
    return {
        "v": 1,
        "uuid": str(uuid.uuid4()),
        "ts": "2026-01-01T00:00:00.000000Z",
        "actor_id": None,
        "actor": "system",
        "action": "request.submitted",
        "object_type": "catalog.request",
        "object_id": str(number),
        "team_id": None,
        "request_id": "",
        "trace_id": "",
        "payload": PAYLOAD,
    }


def audit_table_copy() -> str:
    """A table with the audit table's schema — its generated columns, indexes and unique hash —
    and no rows, no chain and no triggers: the floor an append cannot beat. Its name."""
    from django.db import connection, models

    from audit.models import AuditEvent

    meta = type(
        "Meta",
        (),
        {
            "app_label": "audit",
            "db_table": "bench_audit_copy",
            "indexes": [
                models.Index(fields=index.fields, name=f"bench_{index.name}")
                for index in AuditEvent._meta.indexes
            ],
        },
    )
    fields = {field.name: field.clone() for field in AuditEvent._meta.local_fields}
    attributes = {"__module__": __name__, "Meta": meta, **fields}
    model = type("BenchAuditCopy", (models.Model,), attributes)
    with connection.schema_editor() as editor:
        editor.create_model(model)
    return model._meta.db_table


def measure_appends(appends: int) -> tuple[float, float, float]:
    """(chain appends/s, the same row into a table like the audit table + COMMIT/s, bare INSERT +
    COMMIT/s), alternating in slices."""
    from django.db import connection, transaction

    from audit import chain
    from audit.services import audit_record

    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE bench_bare_insert (seq bigint PRIMARY KEY, body text NOT NULL, "
            "prev_hash varchar(64) NOT NULL, hash varchar(64) NOT NULL)"
        )
    copy = audit_table_copy()
    body = chain.canonical_body(content(0))
    row_sql = "INSERT INTO {} (seq, body, prev_hash, hash) VALUES (%s, %s, %s, %s)"
    seconds = {"chain": 0.0, "table": 0.0, "bare": 0.0}
    per_slice = appends // SLICES
    seq = 0

    def inserts(table: str) -> None:
        nonlocal seq
        for _ in range(per_slice):
            seq += 1
            digest = f"{seq:064x}"  # the copy's hash is unique, as the audit table's is
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(row_sql.format(table), [seq, body, "0" * 64, digest])

    for _ in range(SLICES):
        started = time.perf_counter()
        for number in range(per_slice):
            with transaction.atomic():
                audit_record(
                    action="request.submitted",
                    object_type="catalog.request",
                    object_id=str(number),
                    payload=PAYLOAD,
                )
        seconds["chain"] += time.perf_counter() - started
        for name, table in (("table", copy), ("bare", "bench_bare_insert")):
            started = time.perf_counter()
            inserts(table)
            seconds[name] += time.perf_counter() - started
    done = per_slice * SLICES
    return done / seconds["chain"], done / seconds["table"], done / seconds["bare"]


def extend_chain(events: int) -> None:
    """Append `events` to the chain in bulk (COPY on PostgreSQL), hashed here as audit_record
    would hash them; the triggers allow inserts."""
    from django.db import connection, transaction

    from audit import chain

    with connection.cursor() as cursor:
        cursor.execute("SELECT seq, hash FROM audit_auditevent ORDER BY seq DESC LIMIT 1")
        seq, head = cursor.fetchone() or (0, chain.GENESIS)

    def rows():
        nonlocal seq, head
        for number in range(events):
            body = chain.canonical_body(content(number))
            digest = chain.link_hash(head, body)
            seq += 1
            yield seq, body, head, digest
            head = digest

    columns = "audit_auditevent (seq, body, prev_hash, hash)"
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {columns} FROM STDIN") as copy:
                for row in rows():
                    copy.write_row(row)
            return
        batch = []
        for row in rows():
            batch.append(row)
            if len(batch) == CHUNK:
                cursor.executemany(f"INSERT INTO {columns} VALUES (%s, %s, %s, %s)", batch)
                batch.clear()
        cursor.executemany(f"INSERT INTO {columns} VALUES (%s, %s, %s, %s)", batch)


def measure_sha256(checks: Checks) -> tuple[float, int, str]:
    """Raw SHA-256 of every event's prev_hash + body, on one core: (hashes/s, events, last
    digest). Read in chunks, each chunk hashed three times (best kept); reading is not timed.
    Every digest is then compared with the stored hash."""
    from audit.models import AuditEvent

    sha256 = hashlib.sha256
    seconds, count, last = 0.0, 0, ""
    mismatched = 0
    rows = AuditEvent.objects.order_by("seq").values_list("prev_hash", "body", "hash")
    chunk: list[tuple[str, str, str]] = []

    def hash_chunk() -> None:
        nonlocal seconds, count, last, mismatched
        data = [(prev + body).encode() for prev, body, _ in chunk]
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            for item in data:
                sha256(item).hexdigest()
            best = min(best, time.perf_counter() - started)
        seconds += best
        digests = [sha256(item).hexdigest() for item in data]
        mismatched += sum(d != stored for d, (_, _, stored) in zip(digests, chunk, strict=True))
        count += len(chunk)
        last = digests[-1]

    for row in rows.iterator(chunk_size=5000):
        chunk.append(row)
        if len(chunk) == CHUNK:
            hash_chunk()
            chunk.clear()
    if chunk:
        hash_chunk()
    checks.expect(mismatched == 0, f"{mismatched} stored hashes differ from SHA-256's")
    return count / seconds, count, last


def measure_verify(
    processes: int, rounds: int, events: int, head: str, checks: Checks
) -> tuple[float, int]:
    """audit_verify --processes N end to end, best of `rounds`: (events/s, processes used)."""
    from django.core.management import call_command
    from django.core.management.base import CommandError

    best, used = float("inf"), 0
    for _ in range(rounds):
        out = io.StringIO()
        started = time.perf_counter()
        try:
            call_command("audit_verify", "--processes", str(processes), stdout=out)
        except CommandError as exc:
            checks.expect(False, f"audit_verify failed: {exc}: {out.getvalue()[-500:]}")
            return 0.0, 0
        best = min(best, time.perf_counter() - started)
        summary = out.getvalue().strip().splitlines()[-1]
        checks.expect(summary.startswith(f"{events} events,"), f"audit_verify counted: {summary}")
        checks.expect(f"head {head[:16]}" in summary, f"audit_verify head differs: {summary}")
        used = int(re.search(r"(\d+) process\(es\)", summary).group(1))
    return events / best, used


def main() -> None:
    args = arguments(__doc__, postgres=True)
    vendor = django_with_fresh_database("audit", args.postgres)
    if args.smoke:
        appends, events, rounds = 40, 2_000, 1
    elif args.quick:
        appends, events, rounds = 2_000, 300_000, 2
    else:
        appends, events, rounds = 10_000, 1_000_000, 3
    checks = Checks()

    append_per_s, table_per_s, bare_per_s = measure_appends(appends)
    from audit.models import AuditEvent

    # The migrations write events of their own (SSOps's own SLOs): the chain is filled up to
    # `events` in all.
    extend_chain(events - AuditEvent.objects.count())
    from django.db import connections

    connections.close_all()
    sha256_per_s, hashed, head = measure_sha256(checks)
    checks.expect(hashed == events, f"{hashed} events in the chain, {events} expected")
    verify_per_s, processes = measure_verify(os.cpu_count() or 1, rounds, events, head, checks)
    one_per_s, _ = measure_verify(1, rounds, events, head, checks)
    figures = {
        "database": vendor,
        "appends": appends,
        "events": events,
        "append_per_s": round(append_per_s),
        "bare_insert_per_s": round(bare_per_s),
        "append_ratio": round(append_per_s / bare_per_s, 3),
        "table_insert_per_s": round(table_per_s),
        "table_ratio": round(table_per_s / bare_per_s, 3),
        "append_over_table_ratio": round(append_per_s / table_per_s, 3),
        "sha256_per_s": round(sha256_per_s),
        "verify_per_s": round(verify_per_s),
        "verify_processes": processes,
        "verify_ratio": round(verify_per_s / sha256_per_s, 3),
        "verify_ratio_per_process": round(verify_per_s / sha256_per_s / max(processes, 1), 3),
        "verify_ratio_one_process": round(one_per_s / sha256_per_s, 3),
        "verify_seconds": round(events / verify_per_s, 2) if verify_per_s else None,
    }
    finish(figures, checks)


if __name__ == "__main__":
    main()
