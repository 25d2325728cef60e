"""Helpers shared by tests."""

from __future__ import annotations

import shutil
from contextlib import contextmanager
from pathlib import Path

from django.db import connection

from audit import triggers
from catalog.importer import default_roots

# The runbooks provisioning ships (its definitions/ folder, imported with the catalog's).
RUNBOOKS = Path(__file__).resolve().parent.parent / "provisioning" / "definitions" / "runbooks"


def definitions_copy(target: Path) -> Path:
    """Every shipped definition (templates, policies, runbooks) in one folder, as a user keeps
    them in one repository."""
    for root in default_roots():
        shutil.copytree(root, target, dirs_exist_ok=True)
    return target


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


def start_up(code: str = "import django; django.setup()", **variables: str):
    """Run `code` in a fresh Python with SSOps's settings, this environment less every
    DJANGO_*, DATABASE_* and SSOPS_* variable, plus `variables`; the finished process."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    own = ("DJANGO_", "DATABASE_", "SSOPS_")
    environ = {k: v for k, v in os.environ.items() if not k.startswith(own)}
    environ.update(
        DJANGO_SETTINGS_MODULE="ssops_site.settings", SSOPS_VAR_DIR="/tmp/ssops-env-test"
    )
    environ.update(variables)
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[1],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )


def wait_for(predicate, what: str, seconds: float = 90):
    """Poll until `predicate()` is truthy and return it: a generous deadline for work done by
    other processes (a worker, a server), not a timed assertion."""
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"waited {seconds:.0f} s for {what}")


def stop_group(process) -> None:
    """Stop a process started in its own session, with its children: SIGTERM to the group,
    then SIGKILL if it has not ended within 20 seconds."""
    import os
    import signal
    import subprocess

    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)
