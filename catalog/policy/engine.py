"""Policy engines: evaluate one policy module against one input document.

A policy module is Rego (v1 syntax) in any package. It may define `deny` and `warn` (sets of
messages) and `risk_tier` ("low", "medium" or "high"). An engine returns those as a Verdict;
a module that does not compile, or fails while it runs, gives a Verdict with `error` set, and
the caller denies (fail closed). `RegoEngine` runs rego-cpp in-process through regopy; an engine
that asks an OPA server (`POST /v1/data/<package>`) would implement the same two methods.
No Django imports.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import tempfile
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol

import regopy
from regopy import rego_shared

from catalog.lifecycle import TIERS

PACKAGE_RE = re.compile(r"^\s*package\s+([A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)*)\s*$", re.MULTILINE)
_CALL_RE = re.compile(r"(?<![\w.])([a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*)\s*\(")
_STRING_OR_COMMENT_RE = re.compile(r'"(?:\\.|[^"\\])*"|`[^`]*`|#[^\n]*')
_NOT_CALLS = {"if", "not", "some", "every", "in", "contains", "else", "with", "as", "set"}
_ERRORMSG_RE = re.compile(r"^\s*\(errormsg \d+:(.*)\)\s*$")

regopy.set_default_log_level("None")


class PolicyCompileError(ValueError):
    """The module cannot be compiled; the message says where and why."""

    def __init__(self, name: str, details: str):
        super().__init__(f"{name} does not compile: {details}")
        self.details = details


@dataclass(frozen=True)
class PolicyModule:
    name: str
    source: str

    @cached_property
    def package(self) -> str:
        match = PACKAGE_RE.search(self.source)
        if not match:
            raise PolicyCompileError(self.name, "the module declares no package")
        return match.group(1)


@dataclass(frozen=True)
class Verdict:
    deny: tuple[str, ...] = ()
    warn: tuple[str, ...] = ()
    risk_tier: str = ""
    error: str = ""
    latency_ms: float = 0.0

    @property
    def failed(self) -> bool:
        return bool(self.error)


class PolicyEngine(Protocol):
    name: str

    def compile(self, module: PolicyModule) -> None:
        """Raise PolicyCompileError when the module cannot run."""

    def evaluate(self, module: PolicyModule, document: dict) -> Verdict:
        """Never raises: failures come back as Verdict.error."""

    def evaluate_all(self, modules: list[PolicyModule], document: dict) -> list[Verdict]:
        """One verdict per module, in order, for one input (an engine may batch them)."""


def _messages(text: str) -> list[str]:
    return [m.group(1) for line in text.splitlines() if (m := _ERRORMSG_RE.match(line))]


def _readable_compile_errors(printed: str) -> list[str]:
    """rego-cpp prints 'message / -- file:line:col' blocks; keep just 'message at file:l:c'."""
    found = []
    for block in printed.split("----------------"):
        lines = [line.strip() for line in block.strip().splitlines() if line.strip()]
        if lines and lines[0] == "Errors:":
            lines = lines[1:]
        if len(lines) >= 2 and lines[1].startswith("-- "):
            found.append(f"{lines[0]} at {lines[1][3:]}")
    return found


@contextlib.contextmanager
def _stdout_captured(sink: list[str]):
    """rego-cpp writes compile errors to file descriptor 1: capture them for the message."""
    with tempfile.TemporaryFile(mode="w+b") as capture:
        saved = os.dup(1)
        os.dup2(capture.fileno(), 1)
        try:
            yield
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            capture.seek(0)
            sink.append(capture.read().decode("utf-8", "replace"))


class RegoEngine:
    """rego-cpp in-process. Each module is compiled once into a bundle (cached by source).
    An evaluation gives the input to one long-lived interpreter (about 0.2 ms) and runs each
    module's bundle against it (about 0.1 ms each); a decision's latency is its own query plus
    its share of reading the input. One lock serialises the interpreter between threads."""

    name = "regopy"

    def __init__(self, cache_size: int = 256):
        self._bundles: OrderedDict[tuple[str, str], regopy.Bundle] = OrderedDict()
        self._cache_size = cache_size
        self._combos: OrderedDict[tuple, regopy.Bundle | None] = OrderedDict()
        self._lock = threading.RLock()
        self._runner: regopy.Interpreter | None = None

    @staticmethod
    def value_for(package: str) -> str:
        ref = f"data.{package}"
        return (
            f'{{"deny": object.get({ref}, "deny", set()), '
            f'"warn": object.get({ref}, "warn", set()), '
            f'"risk_tier": object.get({ref}, "risk_tier", "")}}'
        )

    def query_for(self, package: str) -> str:
        return f"result := {self.value_for(package)}"

    def _unknown_functions(self, interpreter: regopy.Interpreter, source: str) -> list[str]:
        code = _STRING_OR_COMMENT_RE.sub('""', source)
        defined = set(re.findall(r"^\s*([a-z_][a-z0-9_]*)\s*\(", code, re.MULTILINE))
        called = set(_CALL_RE.findall(code)) - _NOT_CALLS - defined
        return sorted(
            name
            for name in called
            if not name.startswith(("data.", "input.")) and not interpreter.is_builtin(name)
        )

    def _build(self, module: PolicyModule) -> regopy.Bundle:
        package = module.package
        interpreter = regopy.Interpreter()
        printed: list[str] = []
        try:
            with _stdout_captured(printed):
                interpreter.add_module(f"{module.name}.rego", module.source)
            bundle = interpreter.build(self.query_for(package), [])
        except regopy.RegoError as exc:
            reasons = _readable_compile_errors("".join(printed)) or _messages(str(exc))
            raise PolicyCompileError(
                module.name, "; ".join(reasons) or "rego-cpp refused it"
            ) from None
        if not bundle.ok():
            raise PolicyCompileError(module.name, "rego-cpp refused it")
        unknown = self._unknown_functions(interpreter, module.source)
        if unknown:
            raise PolicyCompileError(
                module.name, f"unknown or unsupported function(s): {', '.join(unknown)}"
            )
        return bundle

    def _bundle(self, module: PolicyModule) -> regopy.Bundle:
        key = (module.name, module.source)
        with self._lock:
            bundle = self._bundles.get(key)
            if bundle is not None:
                self._bundles.move_to_end(key)
                return bundle
            bundle = self._build(module)
            self._bundles[key] = bundle
            while len(self._bundles) > self._cache_size:
                self._bundles.popitem(last=False)
            return bundle

    def compile(self, module: PolicyModule) -> None:
        self._bundle(module)

    def _combined(self, modules: list[PolicyModule]) -> regopy.Bundle | None:
        """One bundle answering for several modules with one query, or None when they cannot
        share one (a module that does not compile alone, or two modules in one package)."""
        key = tuple((m.name, m.source) for m in modules)
        with self._lock:
            if key in self._combos:
                return self._combos[key]
            combo = None
            try:
                for module in modules:
                    self._bundle(module)
                packages = [module.package for module in modules]
                if len(set(packages)) == len(packages):
                    interpreter = regopy.Interpreter()
                    for module in modules:
                        interpreter.add_module(f"{module.name}.rego", module.source)
                    values = ", ".join(
                        f'"{index}": {self.value_for(package)}'
                        for index, package in enumerate(packages)
                    )
                    combo = interpreter.build(f"result := {{{values}}}", [])
            except (PolicyCompileError, regopy.RegoError):
                combo = None
            self._combos[key] = combo
            while len(self._combos) > self._cache_size:
                self._combos.popitem(last=False)
            return combo

    @staticmethod
    def _query(runner: regopy.Interpreter, bundle: regopy.Bundle) -> str:
        output = rego_shared.rego_bundle_query(runner._impl, bundle._impl)
        try:
            if not rego_shared.rego_output_ok(output):
                node = rego_shared.rego_output_node(output)
                children = range(rego_shared.rego_node_size(node))
                texts = [
                    rego_shared.rego_node_json(rego_shared.rego_node_get(node, i)) for i in children
                ]
                raise RuntimeError("; ".join(m for t in texts for m in _messages(t)) or "error")
            return rego_shared.rego_output_string(output)
        finally:
            rego_shared.rego_free_output(output)

    def _runner_with(self, document: dict) -> regopy.Interpreter:
        runner = self._runner or regopy.Interpreter()
        # As a JSON term, not a value: regopy keeps a string given as a value unescaped and
        # prints it so into its JSON output, where a quote in user input (a justification, a
        # name) would end the string and could rewrite the verdict, e.g. a name of
        # `x"], "deny": [], "y": ["` emptied a deny list. Parsed from JSON text, strings hold
        # escapes like the module's own literals: the output is JSON, and input compares equal
        # to literals.
        runner.set_input_term(json.dumps(document, ensure_ascii=False))
        self._runner = runner
        return runner

    def evaluate_all(self, modules: list[PolicyModule], document: dict) -> list[Verdict]:
        verdicts: list[Verdict] = []
        with self._lock:
            started = time.perf_counter()
            try:
                # Plain JSON types only (YAML examples may hold dates, callers Decimals).
                plain = json.loads(json.dumps(document, default=str))
                runner = self._runner_with(plain)
            except Exception as exc:
                self._runner = None
                return [Verdict(error=f"failed at run time: unreadable input: {exc}")] * len(
                    modules
                )
            if len(modules) > 1:
                combined = self._evaluate_combined(runner, modules, started)
                if combined is not None:
                    return combined
                runner = self._runner_with(plain)
            share = (time.perf_counter() - started) * 1000 / max(1, len(modules))
            for module in modules:
                begun = time.perf_counter()
                try:
                    verdict = _verdict_of(_result_of(self._query(runner, self._bundle(module))))
                except PolicyCompileError as exc:
                    verdict = Verdict(error=f"does not compile: {exc.details}")
                except Exception as exc:  # any failure of the engine denies; never crash
                    verdict = Verdict(error=f"failed at run time: {exc}")
                    self._runner = None  # start the next module on a clean interpreter
                    runner = self._runner_with(plain)
                latency = share + (time.perf_counter() - begun) * 1000
                verdicts.append(dataclasses.replace(verdict, latency_ms=latency))
        return verdicts

    def _evaluate_combined(self, runner, modules, started: float) -> list[Verdict] | None:
        """All modules in one query (the usual case); None to fall back to one query each,
        so that a module failing at run time is told apart from the others."""
        combo = self._combined(modules)
        if combo is None:
            return None
        try:
            results = _result_of(self._query(runner, combo))
        except Exception:
            self._runner = None
            return None
        share = (time.perf_counter() - started) * 1000 / len(modules)
        verdicts = []
        for index in range(len(modules)):
            try:
                verdict = _verdict_of(results.get(str(index)))
            except ValueError as exc:
                verdict = Verdict(error=f"failed at run time: {exc}")
            verdicts.append(dataclasses.replace(verdict, latency_ms=share))
        return verdicts

    def evaluate(self, module: PolicyModule, document: dict) -> Verdict:
        return self.evaluate_all([module], document)[0]


def _strings(value: object, rule: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"rule {rule} must be a set of strings (use `{rule} contains msg if`)")
    return tuple(sorted(value))


def _result_of(text: str) -> dict:
    """The `result` binding of a query's output (errors raise)."""
    messages = _messages(text)
    if messages:
        raise RuntimeError("; ".join(messages))
    if text.strip() == "undefined":
        raise ValueError("the policy produced no result")
    result = json.loads(text)
    if isinstance(result, list):
        if len(result) != 1:
            raise ValueError("the policy produced several results")
        result = result[0]
    value = result.get("bindings", {}).get("result")
    if not isinstance(value, dict):
        raise ValueError("the policy produced no result")
    return value


def _verdict_of(value: object) -> Verdict:
    if not isinstance(value, dict):
        raise ValueError("the policy produced no result")
    tier = value.get("risk_tier", "")
    if tier not in ("", *TIERS):
        raise ValueError(f"risk_tier {tier!r} is not one of {', '.join(TIERS)}")
    return Verdict(
        deny=_strings(value.get("deny", []), "deny"),
        warn=_strings(value.get("warn", []), "warn"),
        risk_tier=tier,
    )


_default_engine: PolicyEngine | None = None


def default_engine() -> PolicyEngine:
    """The engine the catalog uses (one per process)."""
    global _default_engine
    if _default_engine is None:
        _default_engine = RegoEngine()
    return _default_engine
