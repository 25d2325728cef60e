"""Runbook documents (catalog/definitions/runbooks/*.yaml): parse and lint (no Django imports).

apiVersion: catalog.ssops.dev/v1
kind: Runbook
metadata: {name: flush-cache, title: Flush a cache, tags: [cache]}
spec:
  owner: platform                  # a team slug (who looks after it)
  version: 1.0.0
  riskTier: low                    # high needs an approval before it runs
  parameters: {type: object, ...}  # JSON Schema, as for templates
  steps: [{id: flush, action: runbook.flush-cache, input: {target: ...}}]
  verify:                          # how the run proves its effect (one of):
    promql: sum(rate(errors_total{service="${{ parameters.service }}"}[5m]))
    expect: {op: "<", value: 0.1}
    within: 5m                     # keep checking this long (default 5m) …
    every: 30s                     # … this often (default 30s)
  # or
  verify: {output: {step: flush, field: remaining}, expect: {op: "==", value: 0}}
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import semver

from catalog.lifecycle import TIERS
from catalog.template_spec import (
    EXPRESSION_RE,
    Linter,
    LintError,
    _check_reference,
    _lint_parameters,
    _lint_steps,
    document_digest,
    expressions_in,
)

OPERATORS = ("<", "<=", ">", ">=", "==", "!=")
SECONDS_RE = re.compile(r"^\s*(\d+)\s*([smh])\s*$")
SECONDS_PER_UNIT = {"s": 1, "m": 60, "h": 3600}
RUNBOOK_SPEC_KEYS = ("owner", "version", "riskTier", "parameters", "steps", "verify")
DEFAULT_WITHIN = "5m"
DEFAULT_EVERY = "30s"
# A check that outlives an incident helps no one; one more often than Prometheus scrapes
# reads the same samples again.
TIMING_LIMITS = {"within": (10, 6 * 3600), "every": (5, 3600)}


def parse_seconds(text: Any) -> int:
    match = SECONDS_RE.match(str(text))
    if not match:
        raise ValueError(f"{text!r} is not a duration such as 30s, 5m or 1h")
    return int(match.group(1)) * SECONDS_PER_UNIT[match.group(2)]


@dataclass(frozen=True)
class RunbookSpec:
    name: str
    title: str
    description: str
    tags: tuple[str, ...]
    owner: str
    version: str
    risk_tier: str
    parameters: dict
    steps: list
    verify: dict
    document: dict
    digest: str


def _inside_string(text: str, end: int) -> bool:
    """Whether position `end` of a PromQL text is inside a string literal ("", '' or ``)."""
    quote, escaped = "", False
    for char in text[:end]:
        if escaped:
            escaped = False
        elif quote and char == "\\" and quote != "`":
            escaped = True
        elif char == quote:
            quote = ""
        elif not quote and char in "\"'`":
            quote = char
    return bool(quote)


def _check_quoted(lint: Linter, query: str, properties: dict) -> None:
    """Values are put into the query escaped as string contents, which is safe only inside a
    string literal: elsewhere (`> ${{ parameters.x }}`) only a number may stand."""
    for match in EXPRESSION_RE.finditer(query):
        name = match.group(1).removeprefix("parameters.")
        numeric = properties.get(name, {}).get("type") in {"integer", "number"}
        if not numeric and not _inside_string(query, match.start()):
            lint.error(
                "spec.verify.promql",
                f"put {match.group(0)} inside quotes (a label value): only a number parameter "
                "may stand outside a string",
            )


def _lint_verify(lint: Linter, verify: Any, properties: dict, steps: list) -> dict:
    verify = lint.mapping(verify, "spec.verify")
    if not verify:
        lint.error("spec.verify", "is required: say how a run proves its effect")
        return {}
    expect = lint.mapping(verify.get("expect"), "spec.verify.expect")
    if expect.get("op") not in OPERATORS:
        lint.error("spec.verify.expect.op", f"must be one of {' '.join(OPERATORS)}")
    if "value" not in expect:
        lint.error("spec.verify.expect.value", "is required")
    normal = {"expect": {"op": expect.get("op"), "value": expect.get("value")}}
    if "promql" in verify:
        query = verify.get("promql")
        if not isinstance(query, str) or not query.strip():
            lint.error("spec.verify.promql", "must be a PromQL expression")
        else:
            for expression in expressions_in(query):
                _check_reference(lint, "spec.verify.promql", expression, properties, {})
            _check_quoted(lint, query, properties)
        if not isinstance(expect.get("value"), int | float) or isinstance(
            expect.get("value"), bool
        ):
            lint.error("spec.verify.expect.value", "must be a number for a PromQL check")
        timing = {}
        for key, default in (("within", DEFAULT_WITHIN), ("every", DEFAULT_EVERY)):
            try:
                timing[key] = parse_seconds(verify.get(key, default))
            except ValueError as exc:
                lint.error(f"spec.verify.{key}", str(exc))
                continue
            low, high = TIMING_LIMITS[key]
            if not low <= timing[key] <= high:
                lint.error(f"spec.verify.{key}", f"must be between {low} s and {high} s")
        if timing.get("every", 0) > timing.get("within", float("inf")):
            lint.error("spec.verify.every", "must not be longer than within")
        normal.update(
            promql=query, within_seconds=timing.get("within"), every_seconds=timing.get("every")
        )
    elif "output" in verify:
        output = lint.mapping(verify.get("output"), "spec.verify.output")
        step_ids = {step.get("id") for step in steps if isinstance(step, dict)}
        if output.get("step") not in step_ids:
            lint.error("spec.verify.output.step", "must name one of the runbook's steps")
        if not isinstance(output.get("field"), str) or not output.get("field"):
            lint.error("spec.verify.output.field", "must name a field of that step's output")
        normal["output"] = {"step": output.get("step"), "field": output.get("field")}
    else:
        lint.error("spec.verify", "needs promql (a PromQL check) or output (a step's output)")
    return normal


def lint_runbook(document: Any) -> tuple[RunbookSpec | None, list[LintError]]:
    lint = Linter(document)
    metadata, spec = lint.header("Runbook", RUNBOOK_SPEC_KEYS)
    tags = metadata.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        lint.error("metadata.tags", "must be a list of words")
        tags = []
    version = lint.text(spec, "version", "spec")
    if version and not semver.Version.is_valid(version):
        lint.error("spec.version", f"{version!r} is not a semantic version such as 1.2.0")
    risk_tier = spec.get("riskTier")
    if risk_tier not in TIERS:
        lint.error("spec.riskTier", f"must be one of {', '.join(TIERS)}")
    parameters = _lint_parameters(lint, spec.get("parameters") or {"type": "object"})
    steps = _lint_steps(lint, spec.get("steps"), parameters.get("properties", {}))
    verify = _lint_verify(lint, spec.get("verify"), parameters.get("properties", {}), steps)
    if lint.errors:
        return None, lint.errors
    return (
        RunbookSpec(
            name=metadata["name"],
            title=lint.text(metadata, "title", "metadata", required=False) or metadata["name"],
            description=lint.text(metadata, "description", "metadata", required=False),
            tags=tuple(sorted(set(tags))),
            owner=lint.text(spec, "owner", "spec", required=False),
            version=version,
            risk_tier=risk_tier,
            parameters=parameters,
            steps=steps,
            verify=verify,
            document=document,
            digest=document_digest(document),
        ),
        [],
    )
