"""Helpers of the SLO tests: import documents the way a user does (slo_import)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.slo import shape_documents
from tests.slo import workload_slos as documents


@pytest.fixture
def slo_import(tmp_path):
    """Run `slo_import` on YAML text (or a path); returns the command's output."""

    def run(
        text_or_path: str | Path,
        *,
        team: str | None = None,
        name: str = "slos.yaml",
        sloth_period: str | None = None,
    ) -> str:
        path = Path(text_or_path) if isinstance(text_or_path, Path) else tmp_path / name
        if not isinstance(text_or_path, Path):
            path.write_text(text_or_path)
        out = io.StringIO()
        args = [str(path)] + (["--team", team] if team else [])
        args += ["--sloth-period", sloth_period] if sloth_period else []
        call_command("slo_import", *args, stdout=out, stderr=io.StringIO())
        return out.getvalue()

    return run


@pytest.fixture
def workload_slos(slo_import, team, other_team):
    """The SLOs that watch the synthetic workload (tests/slo/workload.py)."""
    slo_import(documents.OPENSLO, team="payments", name="openslo.yaml")
    slo_import(documents.SLOTH, name="sloth.yaml")


@pytest.fixture
def shape_slos(slo_import, team):
    """The SLOs of every format over the SLI shapes (tests/slo/shape_documents.py)."""
    for name, text in shape_documents.FILES.items():
        slo_import(text, team="payments", name=name, sloth_period="7d")
