"""scripts/dep_audit.py reads pip-audit's JSON report: a known vulnerability fails the run and
names package, advisory and fix; a package nobody could audit is never counted as clean."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "dep_audit.py"
spec = importlib.util.spec_from_file_location("dep_audit", SCRIPT)
dep_audit = importlib.util.module_from_spec(spec)
spec.loader.exec_module(dep_audit)

VULNERABLE = {
    "dependencies": [
        {"name": "django", "version": "5.2.0", "vulns": []},
        {
            "name": "jinja2",
            "version": "3.1.2",
            "vulns": [
                {
                    "id": "GHSA-h5c8-rqwp-cp95",
                    "aliases": ["CVE-2024-22195"],
                    "fix_versions": ["3.1.3"],
                }
            ],
        },
    ],
    "fixes": [],
}
SKIPPED = {
    "dependencies": [
        {"name": "django", "version": "5.2.0", "vulns": []},
        {"name": "celery", "skip_reason": "Dependency not found on PyPI: celery (5.5.0)"},
    ],
    "fixes": [],
}


def _run(tmp_path, report, monkeypatch, mode="warn"):
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report))
    monkeypatch.setenv("SSOPS_DEP_AUDIT", mode)
    return dep_audit.main(["--json", str(path)])


def test_a_known_vulnerability_fails_and_is_named(tmp_path, monkeypatch, capsys):
    assert _run(tmp_path, VULNERABLE, monkeypatch) == 1
    err = capsys.readouterr().err
    assert "jinja2 3.1.2: GHSA-h5c8-rqwp-cp95 (CVE-2024-22195); fixed in 3.1.3" in err


def test_unaudited_packages_are_reported_and_fail_when_strict(tmp_path, monkeypatch, capsys):
    assert _run(tmp_path, SKIPPED, monkeypatch) == 0
    captured = capsys.readouterr()
    assert "1 of 2 packages audited, 0 known vulnerabilities" in captured.out
    assert "1 package(s) could not be audited" in captured.err
    assert _run(tmp_path, SKIPPED, monkeypatch, mode="strict") == 1


def test_a_bad_mode_is_refused_by_name(tmp_path, monkeypatch, capsys):
    assert _run(tmp_path, SKIPPED, monkeypatch, mode="loud") == 2
    assert "SSOPS_DEP_AUDIT='loud'" in capsys.readouterr().err
