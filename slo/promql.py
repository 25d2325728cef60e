"""PromQL for SLOs, read with a real parser (promql-parser) and written from structured parts.

A counter query is one series selector — bare (`http_requests_total{code="500"}`), summed
(`sum(http_requests_total{...})`) or, in Sloth style, a rate or increase over `{{.window}}`
(`sum(rate(http_requests_total{...}[{{.window}}]))`). SSOps reduces it to the selector and writes
its own `increase()` query for each window. Pure module: no Django imports.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache

import promql_parser

WINDOW_TEMPLATE = re.compile(r"\{\{\s*\.window\s*\}\}")
METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_OPS = {"MatchOp.Equal": "=", "MatchOp.NotEqual": "!=", "MatchOp.Re": "=~", "MatchOp.NotRe": "!~"}
# Characters with a meaning in RE2; escaping only these keeps the pattern valid for Prometheus.
_RE2_SPECIAL = set("\\.+*?()|[]{}^$")


class QueryError(ValueError):
    """A query SSOps cannot use; the message says what to write instead."""


def quote(value: str) -> str:
    """A PromQL string literal (JSON escapes are a subset of PromQL's Go-style escapes)."""
    return json.dumps(value, ensure_ascii=False)


def regex_literal(value: str) -> str:
    return "".join("\\" + char if char in _RE2_SPECIAL else char for char in value)


@lru_cache(maxsize=4096)
def _compiled(pattern: str) -> re.Pattern:
    # Prometheus anchors label regexes at both ends: ^(?:pattern)$.
    return re.compile(f"(?:{pattern})")


@dataclass(frozen=True, order=True)
class LabelMatcher:
    name: str
    op: str
    value: str

    def promql(self) -> str:
        return f"{self.name}{self.op}{quote(self.value)}"

    @property
    def positive(self) -> bool:
        return self.op in ("=", "=~")

    def matches(self, value: str) -> bool:
        """Prometheus semantics: a missing label has the value ""."""
        if self.op == "=":
            return value == self.value
        if self.op == "!=":
            return value != self.value
        found = _compiled(self.value).fullmatch(value) is not None
        return found if self.op == "=~" else not found

    def as_alternative(self) -> str:
        """This positive matcher as one branch of a regex alternation."""
        return regex_literal(self.value) if self.op == "=" else f"(?:{self.value})"


@dataclass(frozen=True)
class Selector:
    """A series selector: a metric name and label matchers (no offset, no @)."""

    metric: str
    matchers: tuple[LabelMatcher, ...] = ()

    def promql(self, extra: Iterable[LabelMatcher] = ()) -> str:
        matchers = [*self.matchers, *extra]
        if not matchers:
            return self.metric
        return self.metric + "{" + ",".join(m.promql() for m in matchers) + "}"

    def __str__(self) -> str:
        return self.promql()

    @cached_property
    def label_names(self) -> frozenset[str]:
        return frozenset(m.name for m in self.matchers)

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(m.matches(labels.get(m.name, "")) for m in self.matchers)


def _parse(text: str) -> promql_parser.Expr:
    try:
        return promql_parser.parse(text)
    except ValueError as exc:
        raise QueryError(f"not valid PromQL: {exc}") from None


def _unwrap(expr):
    while isinstance(expr, promql_parser.ParenExpr):
        expr = expr.expr
    return expr


def _selector(node: promql_parser.VectorSelector) -> Selector:
    if node.offset is not None or node.at is not None:
        raise QueryError("remove the offset or @ modifier: SSOps chooses the evaluation time")
    if node.matchers.or_matchers:
        raise QueryError("'or' inside a selector is not supported by Prometheus 2")
    name = node.name
    matchers = []
    for matcher in node.matchers.matchers:
        op = _OPS[str(matcher.op)]
        if matcher.name == "__name__":
            if op != "=":
                raise QueryError("the metric name must be exact, not a pattern")
            name = matcher.value
            continue
        if op in ("=~", "!~"):
            try:
                _compiled(matcher.value)
            except re.error as exc:
                raise QueryError(f"bad regular expression for {matcher.name}: {exc}") from None
        matchers.append(LabelMatcher(matcher.name, op, matcher.value))
    if not name:
        raise QueryError("the selector needs a metric name")
    return Selector(name, tuple(matchers))


def parse_counter(text: str) -> Selector:
    """The counter selector inside a query written the ways SLO tools write them.

    Accepted: `sel`, `sum(sel)`, and with `{{.window}}`: `rate(sel[{{.window}}])` or
    `increase(...)`, optionally inside `sum(...)`. Anything else is refused with the reason.
    """
    templated = WINDOW_TEMPLATE.search(text) is not None
    expr = _unwrap(_parse(WINDOW_TEMPLATE.sub("5m", text)))
    if isinstance(expr, promql_parser.AggregateExpr):
        if str(expr.op) != "sum":
            raise QueryError(f"use sum(...) to add series up, not {expr.op}(...)")
        if expr.modifier is not None and expr.modifier.labels:
            kind = "by" if expr.modifier.type == promql_parser.AggModifierType.By else "without"
            raise QueryError(
                f"remove '{kind} ({', '.join(expr.modifier.labels)})': an SLO counts one total, "
                "and a grouping makes several series"
            )
        expr = _unwrap(expr.expr)
    if isinstance(expr, promql_parser.Call):
        if expr.func.name not in ("rate", "increase"):
            raise QueryError(f"{expr.func.name}() is not a counter rate: use rate() or increase()")
        if not templated:
            raise QueryError(
                "a rate() or increase() needs the range [{{.window}}] so SSOps can choose windows"
            )
        (argument,) = expr.args
        expr = argument.vector_selector
    elif templated:
        raise QueryError("{{.window}} belongs inside rate(...[{{.window}}]) or increase(...)")
    if isinstance(expr, promql_parser.VectorSelector):
        return _selector(expr)
    raise QueryError(
        "give one counter selector, optionally inside sum(...) "
        '(e.g. sum(http_requests_total{code=~"5.."})); expressions such as a + b are not supported'
    )


def check_expression(text: str) -> str:
    """A PromQL expression returning one value per slice (threshold metrics); stripped."""
    text = text.strip()
    if WINDOW_TEMPLATE.search(text):
        raise QueryError("{{.window}} is not used in a threshold query: give the value per slice")
    expr = _unwrap(_parse(text))
    if isinstance(expr, promql_parser.MatrixSelector | promql_parser.StringLiteral):
        raise QueryError("the query must return an instant value, not a range or a string")
    try:  # SSOps writes the text inside its own expressions, e.g. ((text) < bool 0.5)
        promql_parser.parse(f"({text})")
    except ValueError:
        raise QueryError(
            "remove the # comment at the end: SSOps puts the query inside a larger one"
        ) from None
    return text


def union_matcher(name: str, matchers: Iterable[LabelMatcher]) -> LabelMatcher:
    """One matcher that every series matched by any of the given positive matchers matches."""
    unique = sorted(set(matchers))
    if len(unique) == 1 and unique[0].op == "=":
        return unique[0]
    return LabelMatcher(name, "=~", "|".join(m.as_alternative() for m in unique))
