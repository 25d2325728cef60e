"""The in-process Rego engine (regopy): the built-ins our policies use, and failures that must
deny (fail closed) with a clear reason."""

import re

import pytest

from catalog.policy.documents import run_examples
from catalog.policy.engine import PolicyCompileError, PolicyModule, RegoEngine
from tests.catalog.conftest import POLICIES


@pytest.fixture(scope="module")
def engine():
    return RegoEngine()


def module(body: str, name: str = "t") -> PolicyModule:
    return PolicyModule(name=name, source=f"package t\n\nimport rego.v1\n\n{body}\n")


def warn_of(engine, expression: str, document=None) -> tuple[str, ...]:
    verdict = engine.evaluate(module(f"warn contains x if {{ x := {expression} }}"), document or {})
    assert not verdict.failed, verdict.error
    return verdict.warn


def _builtins_used_by_shipped_policies() -> set[str]:
    calls = set()
    for path in POLICIES.glob("*.rego"):
        code = re.sub(r'"(?:\\.|[^"\\])*"|#[^\n]*', '""', path.read_text())
        calls |= set(re.findall(r"(?<![\w.])([a-z_][a-z0-9_.]*)\s*\(", code))
    return calls - {"if", "not"}


# Each built-in a shipped policy calls, with an expression and the text it must give.
BUILTINS = {
    "sprintf": ('sprintf("%s has %d of %d", ["payments", 3, 10])', "payments has 3 of 10"),
    "count": ('sprintf("%d", [count("abcd")])', "4"),
    "trim_space": ('trim_space("  padded  ")', "padded"),
    "startswith": ('sprintf("%v", [startswith("payments-db", "payments-")])', "true"),
    "concat": ('concat("", ["payments", "-"])', "payments-"),
    "object.get": ('object.get({"a": "x"}, "b", "fallback")', "fallback"),
    "round": ('sprintf("%d", [round(86.4)])', "86"),
}


def test_the_list_covers_every_builtin_the_shipped_policies_call():
    assert _builtins_used_by_shipped_policies() <= set(BUILTINS)


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_each_builtin_we_use_works_in_regopy(engine, name):
    expression, expected = BUILTINS[name]
    assert warn_of(engine, expression) == (expected,)


def test_arithmetic_on_input_numbers(engine):
    assert warn_of(
        engine,
        'sprintf("%d", [round(((input.a + input.b) * 100) / input.c)])',
        {"a": 800, "b": 60.0, "c": 1000},
    ) == ("86",)


def test_known_quirk_sprintf_of_several_values_with_a_concat_result_fails_closed(engine):
    """rego-cpp 1.5.2 prints a concat() result with raw quotes when sprintf formats it among
    other values, which breaks the output JSON (OPA does not). The engine reports that as an
    error, so an enforcing policy denies; shipped policies use concat() only in comparisons."""
    assert warn_of(engine, 'sprintf("%s", [concat("", [input.s, "-"])])', {"s": "a"}) == ("a-",)
    document = {"s": "a"}
    expression = 'sprintf("%s %s", [concat("", [input.s, "-"]), "x"])'
    verdict = engine.evaluate(module(f"warn contains x if {{ x := {expression} }}"), document)
    assert verdict.failed and verdict.error.startswith("failed at run time")


def test_else_chains_give_the_risk_tier(engine):
    policy = module('risk_tier := "high" if input.x == 2\nelse := "medium" if input.x == 1')
    assert [engine.evaluate(policy, {"x": x}).risk_tier for x in (0, 1, 2)] == [
        "",
        "medium",
        "high",
    ]


def test_a_syntax_error_is_a_compile_error_with_its_place(engine):
    with pytest.raises(PolicyCompileError, match=r"broken does not compile: .* at broken\.rego:5:"):
        engine.compile(module("deny contains msg if { msg := }", name="broken"))


def test_unknown_and_unsupported_functions_do_not_compile(engine):
    with pytest.raises(PolicyCompileError, match="unknown or unsupported function.*http.send"):
        engine.compile(module('deny contains "x" if { http.send({"url": "http://x"}) }'))
    with pytest.raises(PolicyCompileError, match="nosuch"):
        engine.compile(module('deny contains msg if { msg := nosuch("a") }'))


def test_a_module_without_package_does_not_compile(engine):
    with pytest.raises(PolicyCompileError, match="declares no package"):
        engine.compile(PolicyModule(name="x", source='deny contains "x" if true'))


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            "conflict := 1 if true\nconflict := 2 if true\nrisk_tier := conflict",
            "complete rules must not produce multiple outputs",
        ),
        ('deny := {"a": 1}', "rule deny must be a set of strings"),
        ('risk_tier := "extreme"', "risk_tier 'extreme' is not one of low, medium, high"),
        ("deny contains msg if { msg := 1 / input.zero }", ""),
    ],
)
def test_failures_at_run_time_come_back_as_errors_never_exceptions(engine, body, reason):
    verdict = engine.evaluate(module(body), {"zero": 0})
    if reason:
        assert verdict.failed and reason in verdict.error
    else:  # division by zero is undefined in Rego: no deny, no error
        assert not verdict.failed and verdict.deny == ()


def test_a_compile_error_at_evaluation_is_an_error_verdict(engine):
    verdict = engine.evaluate(module("deny contains msg if { msg := }"), {})
    assert verdict.failed and verdict.error.startswith("does not compile")


def test_examples_report_each_mismatch(engine):
    policy = module('deny contains "no" if input.a == 1')
    examples = [
        {"name": "denied", "input": {"a": 1}, "expect": {"allow": False, "deny": ["no"]}},
        {"name": "wrong", "input": {"a": 2}, "expect": {"allow": False}},
    ]
    assert run_examples(engine, policy, examples) == [
        "example 'wrong': expected allow False, got True"
    ]


def named(name: str, package: str, body: str) -> PolicyModule:
    return PolicyModule(name=name, source=f"package {package}\n\nimport rego.v1\n\n{body}\n")


def test_several_modules_are_answered_by_one_query_each_with_its_own_verdict(engine):
    modules = [
        named("a", "pa", 'deny contains "a says no" if input.x == 1'),
        named("b", "pb", 'warn contains "b warns" if true\nrisk_tier := "medium"'),
        named("c", "pc", 'deny := {"not": "a set"}'),
    ]
    a, b, c = engine.evaluate_all(modules, {"x": 1})
    assert a.deny == ("a says no",) and not a.failed
    assert (b.warn, b.risk_tier) == (("b warns",), "medium")
    assert c.failed and "rule deny must be a set of strings" in c.error
    assert all(v.latency_ms > 0 for v in (a, b, c))


def test_a_run_time_error_in_one_module_is_told_apart_from_the_others(engine):
    modules = [
        named("fine", "fine", 'warn contains "ok" if true'),
        named("broken", "broken", 'risk_tier := "low" if true\nrisk_tier := "high" if true'),
    ]
    fine, broken = engine.evaluate_all(modules, {})
    assert fine.warn == ("ok",) and not fine.failed
    assert broken.failed and "multiple outputs" in broken.error


def test_modules_sharing_a_package_are_evaluated_apart(engine):
    modules = [
        named("one", "shared", 'deny contains "one" if true'),
        named("two", "shared", 'deny contains "two" if true'),
    ]
    one, two = engine.evaluate_all(modules, {})
    assert (one.deny, two.deny) == (("one",), ("two",))
