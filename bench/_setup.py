"""Shared start-up for benchmarks: a throwaway database under var/bench/ and Django set up."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def django_with_fresh_sqlite(name: str) -> Path:
    """Point Django at var/bench/<name>.sqlite3 (deleted first), migrate, and return its path."""
    sys.path.insert(0, str(ROOT))
    path = ROOT / "var" / "bench" / f"{name}.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ssops_site.settings")
    os.environ.setdefault("DJANGO_SECURE_SSL", "0")
    os.environ.setdefault("SSOPS_LOG_LEVEL", "WARNING")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    return path


def arguments(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--quick", action="store_true", help="a smaller run that ends within a minute"
    )
    return parser.parse_args()
