"""Policy documents (YAML next to a .rego module) and their examples. No Django imports.

apiVersion: catalog.ssops.dev/v1
kind: Policy
metadata: {name: elevated-access, title: …, description: …}
spec:
  mode: enforce            # enforce | warn | dry_run
  module: elevated-access.rego
  examples:
    - name: a day of admin access is denied
      input: {request: {ttl_hours: 24}, template: {name: elevated-access}}
      expect: {allow: false, deny: ["…"], warn: [], risk_tier: high}
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from catalog.policy.engine import PolicyCompileError, PolicyEngine, PolicyModule
from catalog.template_spec import Linter, LintError, document_digest

MODES = ("enforce", "warn", "dry_run")
EXPECT_KEYS = {"allow", "deny", "warn", "risk_tier"}


@dataclass(frozen=True)
class PolicySpec:
    name: str
    title: str
    description: str
    mode: str
    source: str
    examples: list
    digest: str


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    return isinstance(value, list) and any(_has_nul(item) for item in value)


def lint_examples(examples: Any, path: str = "spec.examples") -> list[LintError]:
    errors = []
    if not isinstance(examples, list):
        return [LintError(path, "must be a list of {name, input, expect}")]
    if _has_nul(examples):  # the admin's JSON field decodes "\u0000"; no column can hold it
        return [LintError(path, "contains a NUL character (\\u0000)")]
    for index, example in enumerate(examples):
        where = f"{path}[{index}]"
        if not isinstance(example, dict):
            errors.append(LintError(where, "must be a mapping with name, input and expect"))
            continue
        if not isinstance(example.get("name"), str) or not example["name"]:
            errors.append(LintError(f"{where}.name", "is required"))
        if not isinstance(example.get("input"), dict):
            errors.append(LintError(f"{where}.input", "must be a mapping (the policy input)"))
        expect = example.get("expect")
        if not isinstance(expect, dict) or not expect:
            errors.append(LintError(f"{where}.expect", f"must set some of {sorted(EXPECT_KEYS)}"))
        elif set(expect) - EXPECT_KEYS:
            unknown = ", ".join(sorted(set(expect) - EXPECT_KEYS))
            errors.append(LintError(f"{where}.expect", f"unknown keys: {unknown}"))
    return errors


def run_examples(engine: PolicyEngine, module: PolicyModule, examples: list) -> list[str]:
    """Every example whose outcome differs from what it expects, described; [] when all pass."""
    try:
        engine.compile(module)
    except PolicyCompileError as exc:
        return [str(exc)]
    failures = []
    for example in examples:
        verdict = engine.evaluate(module, example["input"])
        name = example["name"]
        if verdict.failed:
            failures.append(f"example {name!r}: the policy {verdict.error}")
            continue
        expect = example["expect"]
        got = {
            "allow": not verdict.deny,
            "deny": sorted(verdict.deny),
            "warn": sorted(verdict.warn),
            "risk_tier": verdict.risk_tier,
        }
        for key in sorted(expect):
            wanted = sorted(expect[key]) if key in {"deny", "warn"} else expect[key]
            if got[key] != wanted:
                failures.append(f"example {name!r}: expected {key} {wanted!r}, got {got[key]!r}")
    return failures


def lint_policy(
    document: Any, read_module: Callable[[str], str]
) -> tuple[PolicySpec | None, list[LintError]]:
    """Check a policy document; `read_module(name)` returns the text of the .rego it names."""
    lint = Linter(document)
    metadata, spec = lint.header("Policy", ("mode", "module", "rego", "examples"))
    mode = spec.get("mode", "enforce")
    if mode not in MODES:
        lint.error("spec.mode", f"must be one of {', '.join(MODES)}")
    source = spec.get("rego") or ""
    if not source and isinstance(spec.get("module"), str):
        try:
            source = read_module(spec["module"])
        except OSError as exc:
            lint.error("spec.module", f"cannot read {spec['module']!r}: {exc.strerror or exc}")
    elif not source:
        lint.error("spec.module", "name the .rego file (or give the module inline as spec.rego)")
    examples = spec.get("examples", [])
    lint.errors.extend(lint_examples(examples))
    if lint.errors:
        return None, lint.errors
    return (
        PolicySpec(
            name=metadata["name"],
            title=lint.text(metadata, "title", "metadata", required=False) or metadata["name"],
            description=lint.text(metadata, "description", "metadata", required=False),
            mode=mode,
            source=source,
            examples=examples,
            digest=document_digest({"source": source, "examples": examples, "mode": mode}),
        ),
        [],
    )
