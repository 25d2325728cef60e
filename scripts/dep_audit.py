"""Dependency audit for `./run test`: pip-audit over the project's virtualenv.

Known vulnerabilities fail the run (exit 1), listing package, version, advisory and the fixed
versions. A package the advisory service cannot answer for is not "clean": the run says how
many could not be audited and why. By default that is a warning, because some networks (this
project's CI among them) reach the package index but not PyPI's per-version JSON API or
osv.dev; with SSOPS_DEP_AUDIT=strict it fails too, and SSOPS_DEP_AUDIT=off skips the audit.

Usage: python scripts/dep_audit.py [--json FILE]   (FILE: pip-audit's JSON, for tests)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path


def summarize(report: dict) -> tuple[list[str], list[str]]:
    """(vulnerability lines, skipped lines) from pip-audit's JSON report."""
    vulnerable, skipped = [], []
    for dep in report.get("dependencies", []):
        name = dep.get("name", "?")
        if "skip_reason" in dep:
            skipped.append(f"{name}: {dep['skip_reason']}")
            continue
        for vuln in dep.get("vulns", []):
            fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed version yet"
            aliases = ", ".join(vuln.get("aliases") or [])
            vulnerable.append(
                f"{name} {dep.get('version', '?')}: {vuln.get('id', '?')}"
                + (f" ({aliases})" if aliases else "")
                + f"; fixed in {fixed}"
            )
    return vulnerable, skipped


def run_pip_audit() -> dict:
    pip_audit = Path(sys.executable).with_name("pip-audit")
    completed = subprocess.run(  # noqa: S603  (our own venv's pip-audit, fixed arguments)
        [str(pip_audit), "-f", "json", "--progress-spinner", "off", "--skip-editable"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    try:
        return json.loads(completed.stdout)
    except json.JSONDecodeError:
        sys.stderr.write(completed.stderr[-3000:])
        raise SystemExit(
            f"dependency audit: pip-audit failed (exit {completed.returncode})"
        ) from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="read pip-audit's JSON report from FILE")
    args = parser.parse_args(argv)
    mode = os.environ.get("SSOPS_DEP_AUDIT", "warn").strip().lower()
    if mode not in {"warn", "strict", "off"}:
        print(f"SSOPS_DEP_AUDIT={mode!r} is not one of warn, strict, off", file=sys.stderr)
        return 2
    if mode == "off":
        print("dependency audit: skipped (SSOPS_DEP_AUDIT=off)")
        return 0
    report = json.loads(args.json.read_text()) if args.json else run_pip_audit()
    vulnerable, skipped = summarize(report)
    total = len(report.get("dependencies", []))
    for line in vulnerable:
        print(f"dependency audit: VULNERABLE {line}", file=sys.stderr)
    audited = total - len(skipped)
    print(
        f"dependency audit: {audited} of {total} packages audited, "
        f"{len(vulnerable)} known vulnerabilit{'y' if len(vulnerable) == 1 else 'ies'}"
    )
    if skipped:
        print(
            f"dependency audit: WARNING {len(skipped)} package(s) could not be audited "
            f"(the advisory service did not answer for them), e.g. {skipped[0]}",
            file=sys.stderr,
        )
    if vulnerable:
        return 1
    if skipped and mode == "strict":
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
