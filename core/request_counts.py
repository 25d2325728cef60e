"""SSOps's own record of its API requests (ssops_http_requests_total and
ssops_http_request_duration_seconds_bucket without a Prometheus).

Each web process counts API requests in memory, per minute, view, method and status — with how
many were answered within each of a few durations (LATENCY_BUCKETS) — and adds
the minutes that have ended to `ApiRequestCount` with one upsert — on the first API request of a
new minute, so at most once a minute per process and never one row per request. What a process
counted in its last minute is written on its next request or when it exits. Older minutes are
compacted into hours by `request_counts_compact` (period boundaries fall on hours, so monthly and
daily figures stay exact).
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections import defaultdict
from datetime import datetime, timedelta

from django.db import DatabaseError, connection, transaction
from django.db.models import F, Sum

logger = logging.getLogger(__name__)

API_PREFIX = "api:"
KEEP_MINUTES = timedelta(days=35)
Key = tuple[int, str, str, str]  # minute (unix seconds), view, method, status
# The durations SSOps counts requests within (seconds, as the `le` of a Prometheus histogram
# bucket), and the column of each; `timed` counts those measured (the +Inf bucket).
LATENCY_BUCKETS = {
    "0.1": "within_100ms",
    "0.25": "within_250ms",
    "0.5": "within_500ms",
    "1.0": "within_1s",
    "2.5": "within_2500ms",
}
COUNTED = ("count", "timed", *LATENCY_BUCKETS.values())  # the summed columns, in this order

_lock = threading.Lock()
_pending: dict[Key, list[int]] = defaultdict(lambda: [0] * len(COUNTED))
_written_minute = 0  # the latest minute whose earlier minutes have been written
_database = None  # the database the counts were made against (tests swap it under us)


def is_api(view: str) -> bool:
    return view.startswith(API_PREFIX)


def _tally(seconds: float | None) -> list[int]:
    """What one request adds to each counted column."""
    if seconds is None:
        return [1] + [0] * (len(COUNTED) - 1)
    return [1, 1, *(int(seconds <= float(le)) for le in LATENCY_BUCKETS)]


def count(
    view: str, method: str, status: str, *, seconds: float | None = None, now: float | None = None
) -> None:
    """Count one API request (answered in `seconds`, when timed); write the minutes that have
    ended if this is a new minute."""
    global _written_minute, _database
    minute = int((now if now is not None else time.time()) // 60) * 60
    with _lock:
        _database = connection.settings_dict.get("NAME")
        row = _pending[minute, view, method, status]
        for index, added in enumerate(_tally(seconds)):
            row[index] += added
        due = minute > _written_minute
        if due:
            _written_minute = minute
    if due:
        flush(before=minute)


def _take(before: int | None) -> dict[Key, list[int]]:
    with _lock:
        keys = [key for key in _pending if before is None or key[0] < before]
        return {key: _pending.pop(key) for key in keys}


def flush(*, before: int | None = None) -> int:
    """Add the counts of minutes before `before` (all when None) to the table; returns rows.
    A failure is logged and the counts are kept for the next attempt."""
    taken = _take(before)
    if not taken or connection.settings_dict.get("NAME") != _database:
        return 0  # nothing, or counts of another database (a test database gone at exit)
    table = "ssops_site_apirequestcount"
    row = "(%s, 60, %s, %s, %s, " + ", ".join(["%s"] * len(COUNTED)) + ")"
    values = ", ".join([row] * len(taken))
    params = [v for key, counts in taken.items() for v in (*key, *counts)]
    added = ", ".join(f"{column} = {table}.{column} + excluded.{column}" for column in COUNTED)
    sql = (
        f"INSERT INTO {table} (minute, span, view, method, status, {', '.join(COUNTED)}) "
        f"VALUES {values} ON CONFLICT (minute, view, method, status) DO UPDATE SET {added}"
    )
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    except DatabaseError:
        logger.exception("could not record API request counts; keeping them for the next minute")
        with _lock:
            for key, counts in taken.items():
                kept = _pending[key]
                for index, n in enumerate(counts):
                    kept[index] += n
        return 0
    return len(taken)


def reset() -> None:
    """Forget what is counted in memory (tests)."""
    global _written_minute
    with _lock:
        _pending.clear()
        _written_minute = 0


@atexit.register
def _flush_at_exit() -> None:
    try:
        flush()
    except Exception:  # the process is going away; nothing more to do
        logger.debug("API request counts not written at exit", exc_info=True)


def request_counts_compact(*, now: datetime) -> int:
    """Fold the minute rows older than KEEP_MINUTES into one row per hour (same view, method
    and status). Idempotent; returns the minute rows folded."""
    from core.models import ApiRequestCount

    cutoff = int((now - KEEP_MINUTES).timestamp()) // 3600 * 3600
    old = ApiRequestCount.objects.filter(minute__lt=cutoff, span=60)
    with transaction.atomic():
        hours: dict[tuple[int, str, str, str], list[int]] = defaultdict(lambda: [0] * len(COUNTED))
        for minute, view, method, status, *counts in old.values_list(
            "minute", "view", "method", "status", *COUNTED
        ).iterator():
            summed = hours[minute // 3600 * 3600, view, method, status]
            for index, n in enumerate(counts):
                summed[index] += n
        folded = old.delete()[0]
        existing = {
            (r.minute, r.view, r.method, r.status): r
            for r in ApiRequestCount.objects.filter(span=3600, minute__in={k[0] for k in hours})
        }
        for key, counts in hours.items():
            row = existing.get(key)
            if row is not None:
                ApiRequestCount.objects.filter(pk=row.pk).update(
                    **{c: getattr(row, c) + n for c, n in zip(COUNTED, counts, strict=True)}
                )
            else:
                hour, view, method, status = key
                ApiRequestCount.objects.create(
                    minute=hour,
                    span=3600,
                    view=view,
                    method=method,
                    status=status,
                    **dict(zip(COUNTED, counts, strict=True)),
                )
    return folded


def _counted_in(start: float, end: float):
    """Rows counted in (start, end]: a row counts at the end of the minute or hour it covers."""
    from core.models import ApiRequestCount

    return (
        ApiRequestCount.objects.filter(minute__gt=start - 3600, minute__lte=end)
        .annotate(counted_at=F("minute") + F("span"))
        .filter(counted_at__gt=start, counted_at__lte=end)
    )


def totals(start: float, end: float) -> list[tuple[dict[str, str], int]]:
    """Requests counted in (start, end], by view, method and status."""
    rows = (
        _counted_in(start, end)
        .values("view", "method", "status")
        .annotate(n=Sum("count"))
        .order_by()
    )
    return [
        ({"view": r["view"], "method": r["method"], "status": r["status"]}, r["n"]) for r in rows
    ]


def latency_totals(start: float, end: float) -> list[tuple[dict[str, str], int]]:
    """Timed requests counted in (start, end] as a cumulative histogram of their durations, by
    view and method: one entry per bucket `le` (seconds, and "+Inf" for all timed)."""
    sums = {"timed": Sum("timed"), **{c: Sum(c) for c in LATENCY_BUCKETS.values()}}
    rows = _counted_in(start, end).values("view", "method").annotate(**sums).order_by()
    found = []
    for row in rows:
        labels = {"view": row["view"], "method": row["method"]}
        found += [({**labels, "le": le}, row[c]) for le, c in LATENCY_BUCKETS.items()]
        found.append(({**labels, "le": "+Inf"}, row["timed"]))
    return found
