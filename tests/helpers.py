"""Helpers shared by tests."""

from __future__ import annotations

from contextlib import contextmanager

from django.db import connection

from audit import triggers


@contextmanager
def append_only_triggers_removed():
    """Play an attacker with DDL rights: drop the audit triggers, tamper, then put them back."""
    vendor = connection.vendor
    with connection.cursor() as cursor:
        triggers.remove(cursor, vendor)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            triggers.install(cursor, vendor)


def raw(sql: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
