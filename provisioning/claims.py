"""One attempt of a step at a time, even when the broker delivers its message twice.

PostgreSQL: a session advisory lock keyed by the step; it dies with the worker's connection, so
a step whose worker was killed can be taken over at once. SQLite (the demo, one machine): a
lease on the step row that lapses after LEASE_SECONDS.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from provisioning.models import RunStep

LEASE_SECONDS = 600
# Keys in a range of their own (advisory locks share one key space per database).
_LOCK_BASE = 0x5550_0000_0000_0000


def acquire(step_id: int) -> bool:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [_LOCK_BASE + step_id])
            return bool(cursor.fetchone()[0])
    now = timezone.now()
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    leased = RunStep.objects.filter(free, pk=step_id).update(
        lease_until=now + dt.timedelta(seconds=LEASE_SECONDS)
    )
    return bool(leased) or not RunStep.objects.filter(pk=step_id).exists()


def release(step_id: int) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_LOCK_BASE + step_id])
        return
    RunStep.objects.filter(pk=step_id).update(lease_until=None)
