"""Pyrra `pyrra.dev/v1alpha1` `ServiceLevelObjective` → import plan.

Pyrra builds an SLO's queries from metric selectors; SSOps builds the same measure:

- ratio: errors over total (counters: the exact path);
- latency: success (a histogram bucket, with `le`) over total (its `_count`): the exact path;
- latencyNative: the share of a native histogram's observations up to `latency` —
  histogram_fraction(0, latency, sum(rate(metric[w]))) × histogram_count(...) good events over
  histogram_count(...) events (the promql path);
- bool_gauge: samples at 1 over all samples of a 0/1 gauge — sum_over_time over count_over_time
  (the promql path);

each grouped by `grouping` when given (one SLO per value). Pyrra objects have no service: the
service is the object's `service` label, else its name. `target` is a percentage written as text.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import promql_parser

from slo.choices import BudgetingMethod, IndicatorType, NumeratorKind, Origin, WindowKind
from slo.expressions import sum_by
from slo.importers.documents import (
    Node,
    Planned,
    Ref,
    Refused,
    settle,
    sli_texts,
    team_candidates,
)
from slo.importers.sloth import K8S_METADATA, string_map
from slo.promql import QueryError, _parse, _selector

API_VERSION = "pyrra.dev/v1alpha1"
KIND = "ServiceLevelObjective"
INDICATORS = ("ratio", "latency", "latencyNative", "bool_gauge")
WINDOW = "{{.window}}"


def indicator_queries(
    kind: str, metrics: dict[str, str], grouping: list[str], latency: float | None = None
) -> dict:
    """The model fields an indicator of `kind` gives (also used to write one back)."""
    group = sorted(grouping)
    if kind == "ratio":
        numerator, good, total = metrics["errors"], False, metrics["total"]
    elif kind == "latency":
        numerator, good, total = metrics["success"], True, metrics["total"]
    elif kind == "latencyNative":
        rate = f"{sum_by(group)}(rate({metrics['total']}[{WINDOW}]))"
        total = f"histogram_count({rate})"
        numerator, good = f"histogram_fraction(0, {latency!r}, {rate}) * {total}", True
    else:
        numerator = f"{sum_by(group)}(sum_over_time({metrics['metric']}[{WINDOW}]))"
        total, good = f"{sum_by(group)}(count_over_time({metrics['metric']}[{WINDOW}]))", True
    return {
        "indicator_type": IndicatorType.RATIO,
        "numerator_kind": NumeratorKind.GOOD if good else NumeratorKind.BAD,
        "numerator_query": numerator,
        "total_query": total,
        "group_by": group,
    }


def _metric(node: Node, key: str) -> str:
    part = node.node(key) if key != "metric" else node
    if key != "metric":
        part.expect(f"Pyrra's {key}", "metric")
    text = part.value("metric")
    try:
        expr = _parse(text)
        if not isinstance(expr, promql_parser.VectorSelector):
            raise QueryError('give a metric selector, such as http_requests_total{job="api"}')
        return str(_selector(expr))
    except QueryError as exc:
        raise Refused(part.at("metric"), str(exc)) from None


def _indicator(spec: Node, planned: Planned) -> None:
    indicator = spec.node("indicator")
    indicator.expect("a Pyrra indicator", *INDICATORS)
    given = [kind for kind in INDICATORS if indicator.has(kind)]
    if len(given) != 1:
        raise Refused(indicator.path, f"give exactly one of {', '.join(INDICATORS)}")
    (kind,) = given
    part = indicator.node(kind)
    fields = {
        "ratio": ("errors", "total", "grouping"),
        "latency": ("success", "total", "grouping"),
        "latencyNative": ("total", "latency", "grouping"),
        "bool_gauge": ("metric", "grouping"),
    }[kind]
    part.expect(f"Pyrra's {kind} indicator", *fields)
    grouping = part.value("grouping", list, required=False, default=[])
    if not all(isinstance(label, str) for label in grouping):
        raise Refused(part.at("grouping"), "give a list of label names")
    metrics = {key: _metric(part, key) for key in fields if key not in ("grouping", "latency")}
    latency = None
    if kind == "latencyNative":
        text = part.value("latency")
        try:
            latency = promql_parser.parse_duration(text).total_seconds()
        except ValueError:
            raise Refused(
                part.at("latency"), f"{text!r} is not a duration like 100ms or 1s"
            ) from None
    found = indicator_queries(kind, metrics, grouping, latency)
    planned.paths.update(
        numerator_query=part.at(fields[0]),
        total_query=part.at("total" if "total" in fields else fields[0]),
        group_by=part.at("grouping"),
    )
    planned.fields.update(found)
    sli_texts(
        planned,
        {"numerator": found["numerator_query"], "total": found["total_query"]},
        found["group_by"],
    )


def _alerting(spec: Node, planned: Planned) -> None:
    alerting = spec.node("alerting", required=False)
    if alerting is None:
        return
    alerting.expect("Pyrra's alerting", "disabled", "burnrates", "absent", "name", "absentName")
    # SSOps reports missing data as the data status no_data rather than an absent alert, so
    # absent and absentName are kept for the round trip, not used.
    disabled = alerting.value("disabled", bool, required=False, default=False)
    burnrates = alerting.value("burnrates", bool, required=False, default=True)
    planned.fields.update(page_alerts=burnrates and not disabled)
    planned.fields.update(ticket_alerts=planned.fields["page_alerts"])
    if alerting.has("name"):
        planned.fields["alert_labels"] = {"*": {"alertname": alerting.value("name")}}


def _target(spec: Node) -> float:
    text = spec.value("target", (str, int, float))
    try:
        percent = Decimal(str(text).strip())
    except InvalidOperation:
        raise Refused(spec.at("target"), f"{text!r} is not a percentage like '99.9'") from None
    if percent < 1:
        raise Refused(
            spec.at("target"),
            f"{text!r}: Pyrra's target is a percentage from 0 to 100; did you mean "
            f"'{format((percent * 100).normalize(), 'f')}'?",
        )
    return float(percent / 100)


def parse(doc: Node) -> list[Planned]:
    doc.expect(f"a Pyrra {KIND}", "apiVersion", "kind", "metadata", "spec", "status")
    doc.raw("apiVersion")
    kind = doc.value("kind")
    if kind != KIND:
        raise Refused(doc.at("kind"), f"{kind!r}: {API_VERSION} has {KIND}")
    meta = doc.node("metadata")
    meta.expect("Kubernetes metadata", *K8S_METADATA)
    name = meta.value("name")
    labels = string_map(meta, "labels")
    spec = doc.node("spec")
    spec.expect(
        f"a Pyrra {KIND} spec",
        "description",
        "target",
        "window",
        "indicator",
        "alerting",
        "partial_response_strategy",
    )
    planned = Planned("SLO", name, "")
    service = labels.get("service") or name
    where = meta.at("labels") + ".service" if "service" in labels else meta.at("name")
    planned.refs["service"] = Ref("Service", service, where, create=True)
    planned.fields.update(
        origin=Origin.PYRRA,
        description=spec.value("description", required=False, default=""),
        labels=labels,
        objective=_target(spec),
        window_kind=WindowKind.ROLLING,
        window_duration=spec.value("window"),
        budgeting_method=BudgetingMethod.OCCURRENCES,
        page_alerts=True,
        ticket_alerts=True,
        alert_labels={},
    )
    planned.paths.update(
        name=meta.at("name"), objective=spec.at("target"), window_duration=spec.at("window")
    )
    planned.team_names = team_candidates(labels, "team", "owner", "pyrra.dev/team")
    planned.team_path = meta.at("labels")
    _indicator(spec, planned)
    _alerting(spec, planned)
    settle(doc, [planned])
    return [planned]


def describe(document: dict) -> str:
    metadata = document.get("metadata") if isinstance(document.get("metadata"), dict) else {}
    return f"{KIND} {metadata.get('name')}"
