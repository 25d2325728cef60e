"""The check after a runbook's action: a PromQL expression (through the SLO engine's Prometheus
source) or a field of a step's output, compared with the expected value."""

from __future__ import annotations

import operator
import time
from dataclasses import dataclass
from typing import Any

from provisioning.base import PermanentError
from provisioning.render import rendered

OPS = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}


@dataclass(frozen=True)
class Check:
    """`passed` is None while the check cannot tell yet (no data, source down)."""

    passed: bool | None
    observed: Any
    detail: str


def compare(observed: Any, expect: dict) -> bool:
    try:
        return bool(OPS[expect["op"]](observed, expect["value"]))
    except TypeError:
        return False


def check_output(spec: dict, outputs: dict[str, dict]) -> Check:
    where = spec["output"]
    output = outputs.get(where["step"], {})
    if where["field"] not in output:
        return Check(False, None, f"step {where['step']} has no output {where['field']!r}")
    observed = output[where["field"]]
    passed = compare(observed, spec["expect"])
    return Check(passed, observed, _sentence(f"{where['step']}.{where['field']}", observed, spec))


def check_promql(spec: dict, *, context: dict, url: str, timeout: float) -> Check:
    from slo.sources.base import SourceUnavailable
    from slo.sources.prometheus import PrometheusSource

    if not url:
        return Check(False, None, "PROMETHEUS_URL is not set: the effect cannot be verified")
    try:
        query = rendered(spec["promql"], promql_escaped(context), "verify.promql")
    except PermanentError as exc:
        return Check(False, None, str(exc))
    try:
        result = PrometheusSource(url, timeout).instant(query, time.time())
    except SourceUnavailable as exc:
        return Check(None, None, f"Prometheus could not answer: {exc}")
    if not result:
        return Check(None, None, f"no data yet for {query}")
    observed = result[0][1]
    return Check(compare(observed, spec["expect"]), observed, _sentence(query, observed, spec))


def promql_escaped(value: Any) -> Any:
    """Every text of the context escaped as the inside of a PromQL string literal (the linter
    keeps text parameters inside quotes), so that a value such as `x"} or vector(1) or {a="`
    stays a label value and cannot change the query."""
    from slo.promql import quote

    if isinstance(value, str):
        return quote(value)[1:-1]
    if isinstance(value, dict):
        return {key: promql_escaped(item) for key, item in value.items()}
    if isinstance(value, list):
        return [promql_escaped(item) for item in value]
    return value


def _sentence(what: str, observed: Any, spec: dict) -> str:
    expect = spec["expect"]
    return f"{what} = {observed!r}; expected {expect['op']} {expect['value']!r}"
