"""Sloth `prometheus/v1` specs → import plan. Each SLO is named `<service>-<name>`, over Sloth's
default 30-day rolling window, with error_query / total_query reduced to their counters."""

from __future__ import annotations

from decimal import Decimal

from slo import promql
from slo.choices import BudgetingMethod, IndicatorType, NumeratorKind, Origin, WindowKind
from slo.importers.documents import Node, Planned, Ref, Refused, labels_of, team_candidates

VERSION = "prometheus/v1"
WINDOW = "30d"


def _string_map(node: Node, key: str) -> dict[str, str]:
    value = node.data.get(key) or {}
    if not isinstance(value, dict):
        raise Refused(node.at(key), "expected a mapping of names to texts")
    return {str(k): str(v) for k, v in value.items()}


def _query(events: Node, key: str) -> str:
    try:
        return str(promql.parse_counter(events.value(key)))
    except promql.QueryError as exc:
        raise Refused(events.at(key), str(exc)) from None


def _alerting(slo: Node, planned: Planned) -> None:
    alerting = slo.node("alerting", required=False)
    if alerting is None:
        return
    labels = {"*": _string_map(alerting, "labels")}
    if alerting.has("name"):
        labels["*"]["alertname"] = alerting.value("name")
    annotations = _string_map(alerting, "annotations")
    for severity, key in (("page", "page_alert"), ("ticket", "ticket_alert")):
        part = alerting.node(key, required=False)
        if part is None:
            continue
        planned.fields[f"{severity}_alerts"] = not part.value("disable", bool, required=False)
        labels[severity] = _string_map(part, "labels")
    planned.fields.update(
        alert_labels=labels,
        alert_annotations=annotations,
        runbook_url=annotations.get("runbook_url", annotations.get("runbook", "")),
    )


def parse(doc: Node) -> list[Planned]:
    service = doc.value("service")
    labels = labels_of(doc)
    result = []
    for slo in doc.nodes("slos"):
        name = f"{service}-{slo.value('name')}"
        sli = slo.node("sli")
        if not sli.has("events"):
            other = next((k for k in ("raw", "plugin") if sli.has(k)), "events")
            raise Refused(
                sli.at(other), "only events SLIs (error_query, total_query) are supported"
            )
        events = sli.node("events")
        percent = slo.value("objective", float)
        slo_labels = {**labels, **labels_of(slo)}
        planned = Planned(
            "SLO",
            name,
            "",
            fields={
                "origin": Origin.SLOTH,
                "description": slo.value("description", required=False, default=""),
                "labels": slo_labels,
                "objective": float(Decimal(str(percent)) / 100),
                "window_kind": WindowKind.ROLLING,
                "window_duration": WINDOW,
                "budgeting_method": BudgetingMethod.OCCURRENCES,
                "indicator_type": IndicatorType.RATIO,
                "numerator_kind": NumeratorKind.BAD,
                "numerator_query": _query(events, "error_query"),
                "total_query": _query(events, "total_query"),
            },
            paths={
                "name": slo.at("name"),
                "objective": slo.at("objective"),
                "numerator_query": events.at("error_query"),
                "total_query": events.at("total_query"),
            },
            refs={"service": Ref("Service", service, "service", create=True)},
            team_names=team_candidates(slo_labels, "team", "owner"),
            team_path="labels.team",
        )
        _alerting(slo, planned)
        result.append(planned)
    return result


def describe(document: dict) -> str:
    return f"Sloth service {document.get('service')}"
