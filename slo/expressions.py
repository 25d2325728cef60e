"""SLI queries read with the PromQL parser, and the evaluation path each SLI takes.

- exact: sums and differences of counter selectors — `x{...}`, `sum(x{...})`,
  `sum by (route) (rate(x{...}[{{.window}}]))`, `sum(rate(a[{{.window}}])) - sum(rate(b[...]))`.
  SSOps reduces them to counter terms and computes the increases itself, batched across SLOs
  (engine.py).
- promql: any other expression that Prometheus accepts once `{{.window}}` is replaced by a window
  (Sloth's semantics). Prometheus evaluates the SLI's own expressions per window
  (promql_path.py).

Nothing here needs a Prometheus: an expression is checked by promql-parser at import. Pure module:
no Django imports.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import promql_parser

from slo.promql import (
    WINDOW_TEMPLATE,
    QueryError,
    Selector,
    _compiled,
    _parse,
    _selector,
    _unwrap,
)

EXACT, PROMQL = "exact", "promql"
# What {{.window}} becomes while an expression is checked: a range nobody writes by hand, so a
# range that came from the template is told apart from a fixed one such as [5m].
PLACEHOLDER = "3333333ms"
_PLACEHOLDER_SECONDS = 3333.333
# Aggregations whose result keeps the labels of their input series.
_KEEP_LABELS = {"topk", "bottomk", "limitk", "limit_ratio"}
# Functions whose result is not labelled like their argument.
_NEW_LABELS = {"label_replace", "label_join", "absent", "absent_over_time", "count_values"}
_CONSTANT_FUNCTIONS = {"vector", "time", "scalar", "pi"}
ONE_TOTAL: tuple[str, ...] = ()


def fill_window(template: str, window: str) -> str:
    """The expression for one window, `{{.window}}` replaced as Sloth replaces it."""
    return WINDOW_TEMPLATE.sub(window, template)


def is_templated(text: str) -> bool:
    return WINDOW_TEMPLATE.search(text) is not None


@dataclass(frozen=True)
class Term:
    selector: Selector
    sign: int = 1


@dataclass(frozen=True)
class Counters:
    """Counter selectors added or subtracted: what SSOps counts itself (the exact path)."""

    terms: tuple[Term, ...]

    @classmethod
    def of(cls, selector: Selector) -> Counters:
        return cls((Term(selector),))

    @property
    def selectors(self) -> tuple[Selector, ...]:
        return tuple(term.selector for term in self.terms)

    def promql(self, group_by: Sequence[str] = ()) -> str:
        """The canonical text: one ungrouped selector as it is, otherwise sum(...) terms."""
        if len(self.terms) == 1 and self.terms[0].sign == 1 and not group_by:
            return str(self.terms[0].selector)
        parts = []
        for number, term in enumerate(self.terms):
            text = f"{sum_by(group_by)}({term.selector})"
            if number == 0:
                parts.append(text if term.sign > 0 else f"-{text}")
            else:
                parts.append(f"{'+' if term.sign > 0 else '-'} {text}")
        return " ".join(parts)


def sum_by(group_by: Sequence[str]) -> str:
    return f"sum by ({', '.join(group_by)}) " if group_by else "sum"


@dataclass(frozen=True)
class Query:
    """One SLI query as read: what SSOps makes of it."""

    text: str
    templated: bool
    counters: Counters | None
    # Labels of the result: those of an outer `by (...)`, () for one series, None for series
    # that keep the labels of the metric (no aggregation).
    grouping: tuple[str, ...] | None
    problem: str  # why it is not counters (said when it cannot go to Prometheus either)
    # Counted by SSOps, a term without sum(...) adds its series up: one total unless by (...).
    counter_grouping: tuple[str, ...] = ()


def read(text: str) -> Query:
    """Read one query; QueryError when it is not PromQL that can give an SLI."""
    text = (text or "").strip()
    if not text:
        raise QueryError("give a PromQL query")
    templated = is_templated(text)
    filled = fill_window(text, PLACEHOLDER)
    expr = _parse(filled)
    try:  # SSOps writes the text inside larger expressions, e.g. (text) / (other)
        promql_parser.parse(f"({filled})")
    except ValueError:
        raise QueryError(
            "remove the # comment at the end: SSOps puts the query inside a larger one"
        ) from None
    _check_selectors(expr)
    kind = _value_type(expr)
    if kind != "vector":
        hint = {
            "scalar": "it gives a single number: wrap it in vector(...)",
            "matrix": "it gives a range of samples: apply a function such as "
            "sum_over_time(...) to it",
            "string": "it gives a string",
        }[kind]
        raise QueryError(f"an SLI query must give series (an instant vector); {hint}")
    counters, problem = _counters(expr, templated)
    counter_grouping = _counter_grouping(expr) if counters is not None else ONE_TOTAL
    return Query(text, templated, counters, _grouping(expr), problem, counter_grouping)


# -- counters (the exact path) ----------------------------------------------------------------


def _counters(expr, templated: bool) -> tuple[Counters | None, str]:
    terms: list[Term] = []
    groupings: set[tuple[str, ...]] = set()
    problem = _collect_terms(_unwrap(expr), 1, terms, groupings, templated)
    if problem:
        return None, problem
    if len(groupings) > 1:
        return None, "its terms are summed by different labels"
    return Counters(tuple(terms)), ""


def _collect_terms(
    expr, sign: int, terms: list[Term], groupings: set, templated: bool = True
) -> str:
    expr = _unwrap(expr)
    if isinstance(expr, promql_parser.BinaryExpr):
        op = str(expr.op)
        if op not in ("+", "-") or expr.modifier is not None:
            return f"'{op}' between parts is not a sum or difference of counters"
        return _collect_terms(expr.lhs, sign, terms, groupings, templated) or _collect_terms(
            expr.rhs, sign if op == "+" else -sign, terms, groupings, templated
        )
    if isinstance(expr, promql_parser.UnaryExpr):
        return _collect_terms(expr.expr, -sign, terms, groupings, templated)
    grouping: tuple[str, ...] = ONE_TOTAL
    if isinstance(expr, promql_parser.AggregateExpr):
        if str(expr.op) != "sum":
            return f"use sum(...) to add series up, not {expr.op}(...)"
        modifier = expr.modifier
        if modifier is not None and modifier.type != promql_parser.AggModifierType.By:
            return f"'without ({', '.join(modifier.labels)})' keeps labels SSOps cannot name"
        grouping = tuple(sorted(modifier.labels)) if modifier is not None else ONE_TOTAL
        expr = _unwrap(expr.expr)
    if isinstance(expr, promql_parser.Call):
        if expr.func.name not in ("rate", "increase"):
            return f"{expr.func.name}() is not a counter rate: use rate() or increase()"
        (argument,) = expr.args
        if not templated or argument.range.total_seconds() != _PLACEHOLDER_SECONDS:
            return (
                "a rate() or increase() needs the range [{{.window}}] so SSOps can choose windows"
            )
        expr = argument.vector_selector
    if not isinstance(expr, promql_parser.VectorSelector):
        return (
            "give counter selectors, optionally inside sum(...), added or subtracted "
            '(e.g. sum(http_requests_total{code=~"5.."}))'
        )
    try:
        selector = _selector(expr)
    except QueryError as exc:
        return str(exc)
    terms.append(Term(selector, sign))
    groupings.add(grouping)
    return ""


def _counter_grouping(expr) -> tuple[str, ...]:
    """The common `by` of counter terms (a term without sum counts as one total)."""
    found: set[tuple[str, ...]] = set()
    _collect_terms(_unwrap(expr), 1, [], found)
    return found.pop() if found else ONE_TOTAL


# -- what any expression gives ------------------------------------------------------------------


def _walk(expr):
    yield expr
    for child in _children(expr):
        yield from _walk(child)


def _children(expr) -> list:
    if isinstance(expr, promql_parser.BinaryExpr):
        return [expr.lhs, expr.rhs]
    if isinstance(expr, promql_parser.AggregateExpr):
        return [expr.expr] + ([expr.param] if expr.param is not None else [])
    if isinstance(expr, promql_parser.Call):
        return list(expr.args)
    if isinstance(expr, promql_parser.MatrixSelector):
        return [expr.vector_selector]
    if isinstance(expr, promql_parser.SubqueryExpr | promql_parser.ParenExpr):
        return [expr.expr]
    if isinstance(expr, promql_parser.UnaryExpr):
        return [expr.expr]
    return []


def _check_selectors(expr) -> None:
    """What the parser lets through but Prometheus 2 refuses, or would read differently."""
    for node in _walk(expr):
        if isinstance(node, promql_parser.VectorSelector):
            if node.matchers.or_matchers:
                raise QueryError("'or' inside a selector is not supported by Prometheus 2")
            for matcher in node.matchers.matchers:
                if str(matcher.op) in ("MatchOp.Re", "MatchOp.NotRe"):
                    try:
                        _compiled(matcher.value)
                    except re.error as exc:
                        raise QueryError(
                            f"bad regular expression for {matcher.name}: {exc}"
                        ) from None


def _value_type(expr) -> str:
    expr = _unwrap(expr)
    if isinstance(expr, promql_parser.NumberLiteral):
        return "scalar"
    if isinstance(expr, promql_parser.StringLiteral):
        return "string"
    if isinstance(expr, promql_parser.MatrixSelector | promql_parser.SubqueryExpr):
        return "matrix"
    if isinstance(expr, promql_parser.Call):
        return str(expr.func.return_type).rsplit(".", 1)[-1].lower()
    if isinstance(expr, promql_parser.UnaryExpr):
        return _value_type(expr.expr)
    if isinstance(expr, promql_parser.BinaryExpr):
        sides = {_value_type(expr.lhs), _value_type(expr.rhs)}
        return "scalar" if sides == {"scalar"} else "vector"
    return "vector"


def _is_constant(expr) -> bool:
    """No series of its own: a number, vector(n), time()..."""
    expr = _unwrap(expr)
    if isinstance(expr, promql_parser.NumberLiteral):
        return True
    if isinstance(expr, promql_parser.Call):
        return expr.func.name in _CONSTANT_FUNCTIONS and all(_is_constant(a) for a in expr.args)
    if isinstance(expr, promql_parser.UnaryExpr):
        return _is_constant(expr.expr)
    if isinstance(expr, promql_parser.BinaryExpr):
        return _is_constant(expr.lhs) and _is_constant(expr.rhs)
    return False


def _grouping(expr) -> tuple[str, ...] | None:
    """The labels of the series an expression gives: a sorted tuple, or None when they are the
    labels of raw series (not aggregated away)."""
    expr = _unwrap(expr)
    if _is_constant(expr):
        return ONE_TOTAL
    if isinstance(expr, promql_parser.VectorSelector | promql_parser.MatrixSelector):
        return None
    if isinstance(expr, promql_parser.SubqueryExpr | promql_parser.UnaryExpr):
        return _grouping(expr.expr)
    if isinstance(expr, promql_parser.AggregateExpr):
        op = str(expr.op)
        if op in _KEEP_LABELS:
            return _grouping(expr.expr)
        if op == "count_values" or (
            expr.modifier is not None and expr.modifier.type != promql_parser.AggModifierType.By
        ):
            return None
        return tuple(sorted(expr.modifier.labels)) if expr.modifier is not None else ONE_TOTAL
    if isinstance(expr, promql_parser.Call):
        name = expr.func.name
        if name in _NEW_LABELS:
            return None
        series = [a for a in expr.args if _value_type(a) in ("vector", "matrix")]
        if not series:
            return ONE_TOTAL
        inner = _grouping(series[0])
        if name == "histogram_quantile" and inner is not None:
            return tuple(label for label in inner if label != "le")
        return inner
    if isinstance(expr, promql_parser.BinaryExpr):
        return _binary_grouping(expr)
    return None


def _binary_grouping(expr) -> tuple[str, ...] | None:
    op = str(expr.op)
    left, right = _grouping(expr.lhs), _grouping(expr.rhs)
    if _is_constant(expr.rhs):
        return left
    if _is_constant(expr.lhs):
        return right
    if op in ("and", "unless"):
        return left
    modifier = expr.modifier
    matching = modifier.matching if modifier is not None else None
    one_to_one = matching is not None and str(modifier.card).endswith("OneToOne")
    if op != "or" and one_to_one and str(matching.type).endswith("Include"):  # on (...)
        return tuple(sorted(matching.labels))
    return left if left == right else None


# -- an SLI made of queries ---------------------------------------------------------------------


class SLIError(ValueError):
    """What is wrong, by the role of the query: numerator, total, ratio or group_by."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class SLIQueries:
    path: str
    texts: dict[str, str]  # the text to keep, by role
    group_by: tuple[str, ...]
    counters: dict[str, Counters]  # by role, on the exact path


def _read_roles(queries: dict[str, str]) -> dict[str, Query]:
    found, errors = {}, {}
    for role, text in queries.items():
        try:
            found[role] = read(text)
        except QueryError as exc:
            errors[role] = str(exc)
    if errors:
        raise SLIError(errors)
    return found


def _not_templated(query: Query) -> str:
    return (
        f"{query.problem}; or, for any other PromQL, write {{{{.window}}}} where the window goes "
        "(e.g. sum(rate(x[{{.window}}]))) so that Prometheus evaluates it over each window"
    )


def ratio_sli(numerator: str, total: str, group_by: Sequence[str] = ()) -> SLIQueries:
    """Good (or bad) events over all events; the path and the labels it is grouped by.

    `group_by` names the grouping when the format says it apart from the queries (Pyrra's
    grouping, an OpenSLO label); the queries' own `by (...)` must then agree with it.
    """
    return _ratio_sli(numerator, total, tuple(group_by))


@lru_cache(maxsize=32768)  # every evaluation reads every SLO's queries again: hold them all
def _ratio_sli(numerator: str, total: str, group_by: tuple[str, ...]) -> SLIQueries:
    queries = _read_roles({"numerator": numerator, "total": total})
    explicit = tuple(sorted(set(group_by)))
    if all(q.counters is not None for q in queries.values()):
        groupings = {role: q.counter_grouping for role, q in queries.items()}
        found = _same_grouping(groupings)
        if explicit and found and found != explicit:
            raise SLIError({"group_by": _grouping_conflict(explicit, found)})
        group = explicit or found
        return SLIQueries(
            EXACT,
            {role: q.counters.promql(group) for role, q in queries.items()},
            group,
            {role: q.counters for role, q in queries.items()},
        )
    errors = {role: _not_templated(q) for role, q in queries.items() if not q.templated}
    if errors:
        raise SLIError(errors)
    known = {role: q.grouping for role, q in queries.items() if q.grouping is not None}
    found = _same_grouping(known) if known else None
    return SLIQueries(
        PROMQL,
        {role: q.text for role, q in queries.items()},
        _group_for(explicit, found),
        {},
    )


def raw_sli(ratio: str, group_by: Sequence[str] = ()) -> SLIQueries:
    """A ratio Prometheus computes whole (Sloth's raw error_ratio_query, OpenSLO raw)."""
    return _raw_sli(ratio, tuple(group_by))


@lru_cache(maxsize=32768)
def _raw_sli(ratio: str, group_by: tuple[str, ...]) -> SLIQueries:
    (query,) = _read_roles({"ratio": ratio}).values()
    if not query.templated:
        raise SLIError(
            {
                "ratio": "a ratio query needs {{.window}} where the window goes (e.g. "
                "sum(rate(errors[{{.window}}])) / sum(rate(all[{{.window}}]))): SSOps measures "
                "it over the SLO window and each burn-rate window"
            }
        )
    explicit = tuple(sorted(set(group_by)))
    return SLIQueries(PROMQL, {"ratio": query.text}, _group_for(explicit, query.grouping), {})


def _same_grouping(groupings: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    distinct = set(groupings.values())
    if len(distinct) > 1:
        described = " and ".join(
            f"the {role} query {'by (' + ', '.join(g) + ')' if g else 'into one series'}"
            for role, g in groupings.items()
        )
        # Name the query that groups when the other gives one series (likely the one edited).
        grouped = [role for role, g in groupings.items() if g]
        role = grouped[0] if len(grouped) == 1 else "total"
        raise SLIError({role: f"{described}: group both by the same labels"})
    return distinct.pop()


def _group_for(explicit: tuple[str, ...], found: tuple[str, ...] | None) -> tuple[str, ...]:
    if not explicit:
        return found or ONE_TOTAL
    if found is not None and not set(explicit) <= set(found):
        raise SLIError({"group_by": _grouping_conflict(explicit, found)})
    return explicit


def _grouping_conflict(explicit: tuple[str, ...], found: tuple[str, ...]) -> str:
    kept = f"by ({', '.join(found)})" if found else "into one series"
    return (
        f"the SLO is grouped by {', '.join(explicit)}, but its queries sum {kept}: group the "
        "queries by the same labels, or drop the grouping"
    )


# -- events over a window of any length ---------------------------------------------------------

PER_SECOND, EVENTS = "per_second", "events"
_PER_SECOND_FUNCTIONS = {"rate"}
_EVENT_FUNCTIONS = {"increase", "count_over_time", "sum_over_time"}


@lru_cache(maxsize=4096)
def window_unit(text: str) -> str:
    """What an events expression gives over a window: "events" (counts: increase(),
    count_over_time(), sum_over_time()), "per_second" (rate(): events per second), or "" when
    the events cannot be told from it — a subquery, a gauge, anything but sums and differences
    of such calls over `[{{.window}}]`. Events of one kind add up over pieces of a window: that
    is what lets maintenance windows be cut out of a promql-path SLI and the low-traffic guard
    count its events."""
    if not is_templated(text):
        return ""
    try:
        expr = _parse(fill_window(text, PLACEHOLDER))
    except QueryError:
        return ""
    units: set[str] = set()
    if not _additive(expr, units) or len(units) != 1:
        return ""
    return units.pop()


def _additive(expr, units: set[str]) -> bool:
    expr = _unwrap(expr)
    if _is_constant(expr):
        return True
    if isinstance(expr, promql_parser.BinaryExpr):
        if str(expr.op) not in ("+", "-", "or"):
            return False
        return _additive(expr.lhs, units) and _additive(expr.rhs, units)
    if isinstance(expr, promql_parser.AggregateExpr):
        return str(expr.op) == "sum" and _additive(expr.expr, units)
    if isinstance(expr, promql_parser.Call):
        name = expr.func.name
        if name not in _PER_SECOND_FUNCTIONS | _EVENT_FUNCTIONS or len(expr.args) != 1:
            return False
        (argument,) = expr.args
        if not isinstance(argument, promql_parser.MatrixSelector):
            return False  # a subquery: its points are not events
        if argument.range.total_seconds() != _PLACEHOLDER_SECONDS:
            return False
        units.add(PER_SECOND if name in _PER_SECOND_FUNCTIONS else EVENTS)
        return True
    return False
