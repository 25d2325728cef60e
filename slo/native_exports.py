"""Sloth and Pyrra SLOs written back in their own format (slo_export).

Each document is built from the SLO as SSOps holds it now (so an SLO changed through the API
comes out changed), with the fields SSOps kept from the imported document put back in place. A
Sloth file's SLOs come out together, one document per service (per object for the Kubernetes
form). An SLO that its format can no longer express (say, a Pyrra SLO whose queries were edited
into something Pyrra cannot build) comes out as OpenSLO v1 instead.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal

import promql_parser

from slo.choices import IndicatorType, NumeratorKind, Origin
from slo.expressions import EXACT, PLACEHOLDER, Counters, SLIError, fill_window, sum_by
from slo.importers import pyrra, sloth
from slo.importers.documents import put_kept
from slo.models import SLO
from slo.promql import QueryError, _selector
from slo.windows import promql_duration

WINDOW = "{{.window}}"


def percent(objective: float) -> str:
    """0.999 → "99.9", exactly as written (no float noise)."""
    return format((Decimal(repr(objective)) * 100).normalize(), "f")


def native_documents(slos: Sequence[SLO]) -> tuple[list[dict], list[SLO]]:
    """(Sloth and Pyrra documents, the SLOs left for OpenSLO)."""
    documents: list[dict] = []
    left = []
    sloth_files: dict[tuple, list[SLO]] = defaultdict(list)
    for slo in slos:
        if slo.origin in (Origin.SLOTH, Origin.SLOTH_K8S):
            sloth_files[_sloth_file_key(slo)].append(slo)
        elif slo.origin == Origin.PYRRA and (document := pyrra_document(slo)) is not None:
            documents.append(document)
        else:
            left.append(slo)
    for (origin, _, _), members in sloth_files.items():
        documents.append(sloth_document(members, kubernetes=origin == Origin.SLOTH_K8S))
    return documents, left


# -- Sloth --------------------------------------------------------------------------------------


def _entries_path(kubernetes: bool) -> list:
    return ["spec", "slos"] if kubernetes else ["slos"]


def _document_kept(slo: SLO) -> list:
    """The kept fields of the document around the SLO (not of its own entry)."""
    entries = _entries_path(slo.origin == Origin.SLOTH_K8S)
    return [kept for kept in slo.kept_fields or [] if kept[0][: len(entries)] != entries]


def _sloth_file_key(slo: SLO) -> tuple:
    return slo.origin, slo.service.name, json.dumps(_document_kept(slo), sort_keys=True)


def sloth_query(counters: Counters, group_by: Sequence[str]) -> str:
    """Counter terms as Sloth writes them: rates over {{.window}}."""
    parts = []
    for number, term in enumerate(counters.terms):
        text = f"{sum_by(group_by)}(rate({term.selector}[{WINDOW}]))"
        sign = "" if term.sign > 0 else "-"
        parts.append(f"{sign}{text}" if number == 0 else f"{'+' if term.sign > 0 else '-'} {text}")
    return " ".join(parts)


def _sloth_sli(slo: SLO, dialect: sloth.Dialect) -> dict:
    if slo.indicator_type == IndicatorType.RAW:
        ratio = slo.ratio_query
        if slo.numerator_kind == NumeratorKind.GOOD:
            ratio = f"1 - ({ratio})"
        return {"raw": {dialect("error_ratio_query"): ratio}}
    found = slo.sli_queries()
    if found.path == EXACT:
        numerator = sloth_query(found.counters["numerator"], found.group_by)
        total = sloth_query(found.counters["total"], found.group_by)
    else:
        numerator, total = slo.numerator_query, slo.total_query
    if slo.numerator_kind == NumeratorKind.GOOD:  # Sloth counts errors: all minus the good
        numerator = f"({total}) - ({numerator})"
    return {"events": {dialect("error_query"): numerator, dialect("total_query"): total}}


def _sloth_alerting(slo: SLO, dialect: sloth.Dialect) -> dict:
    labels = slo.alert_labels or {}
    common = dict(labels.get("*", {}))
    alerting: dict = {}
    if "alertname" in common:
        alerting["name"] = common.pop("alertname")
    if common:
        alerting["labels"] = common
    if slo.alert_annotations:
        alerting["annotations"] = slo.alert_annotations
    for severity in ("page", "ticket"):
        part: dict = {}
        if not getattr(slo, f"{severity}_alerts"):
            part["disable"] = True
        if severity in labels:
            part["labels"] = labels[severity]
        if severity in (slo.severity_annotations or {}):
            part["annotations"] = slo.severity_annotations[severity]
        if part:
            alerting[dialect(f"{severity}_alert")] = part
    return alerting


def sloth_entry(slo: SLO, dialect: sloth.Dialect) -> dict:
    entry: dict = {"name": slo.name.removeprefix(f"{slo.service.name}-")}
    if slo.description:
        entry["description"] = slo.description
    entry["objective"] = float(percent(slo.objective))
    if slo.labels:
        entry["labels"] = slo.labels
    entry["sli"] = _sloth_sli(slo, dialect)
    alerting = _sloth_alerting(slo, dialect)
    if alerting:
        entry["alerting"] = alerting
    return entry


def sloth_document(slos: Sequence[SLO], kubernetes: bool) -> dict:
    dialect = sloth.CAMEL if kubernetes else sloth.SNAKE
    service = slos[0].service.name
    entries = _entries_path(kubernetes)
    spec: dict = {"service": service, "slos": [sloth_entry(slo, dialect) for slo in slos]}
    if kubernetes:
        document = {"apiVersion": sloth.K8S_API_VERSION, "kind": sloth.K8S_KIND}
        document.update(metadata={"name": service}, spec=spec)
    else:
        document = {"version": sloth.VERSION, **spec}
    put_kept(document, _document_kept(slos[0]))
    for index, slo in enumerate(slos):
        own = [kept for kept in slo.kept_fields or [] if kept[0][: len(entries)] == entries]
        put_kept(document, own, entry=index)
    return document


# -- Pyrra --------------------------------------------------------------------------------------

_FRACTION = re.compile(r"histogram_fraction\(0, ([0-9.e+-]+),")


def pyrra_indicator(slo: SLO) -> dict | None:
    """The Pyrra indicator that builds exactly this SLO's SLI, if there is one."""
    if slo.indicator_type != IndicatorType.RATIO:
        return None
    found = slo.sli_queries()
    group = list(slo.group_by)
    candidates = []
    if found.path == EXACT:
        numerator, total = found.counters["numerator"], found.counters["total"]
        if len(numerator.terms) == 1 == len(total.terms):
            metrics = {"total": str(total.terms[0].selector)}
            first = str(numerator.terms[0].selector)
            candidates += [("ratio", {**metrics, "errors": first}, None)]
            candidates += [("latency", {**metrics, "success": first}, None)]
    else:
        metric = _only_selector(slo.total_query)
        latency = _FRACTION.search(slo.numerator_query)
        if metric is not None:
            candidates.append(("bool_gauge", {"metric": metric}, None))
            if latency:
                candidates.append(("latencyNative", {"total": metric}, float(latency.group(1))))
    for kind, metrics, seconds in candidates:
        if _builds(slo, pyrra.indicator_queries(kind, metrics, group, seconds)):
            indicator: dict = {key: {"metric": value} for key, value in metrics.items()}
            if kind == "bool_gauge":
                indicator = {"metric": metrics["metric"]}
            if seconds is not None:
                indicator["latency"] = promql_duration(seconds)
            if group:
                indicator["grouping"] = group
            return {kind: indicator}
    return None


def _only_selector(query: str) -> str | None:
    """The one series selector of a query, if it has exactly one."""
    found = []

    def visit(expr) -> None:
        if isinstance(expr, promql_parser.VectorSelector):
            found.append(expr)
        for name in ("expr", "lhs", "rhs", "vector_selector"):
            child = getattr(expr, name, None)
            if child is not None:
                visit(child)
        for child in getattr(expr, "args", None) or []:
            visit(child)

    visit(promql_parser.parse(fill_window(query, PLACEHOLDER)))
    if len(found) != 1:
        return None
    try:
        return str(_selector(found[0]))
    except QueryError:
        return None


def _builds(slo: SLO, fields: dict) -> bool:
    candidate = SLO(**fields)
    try:
        built = candidate.sli_queries()
    except SLIError:
        return False
    texts = {"numerator_query": built.texts["numerator"], "total_query": built.texts["total"]}
    return (
        fields["numerator_kind"] == slo.numerator_kind
        and list(built.group_by) == list(slo.group_by)
        and all(getattr(slo, name) == text for name, text in texts.items())
    )


def pyrra_document(slo: SLO) -> dict | None:
    """The Pyrra object of an SLO, or None when Pyrra cannot express it any more."""
    indicator = pyrra_indicator(slo)
    common = dict((slo.alert_labels or {}).get("*", {}))
    name = common.pop("alertname", None)
    expressible = (
        indicator is not None
        and slo.window_kind == "rolling"
        and slo.page_alerts == slo.ticket_alerts
        and not common
        and set(slo.alert_labels or {}) <= {"*"}
        and not slo.alert_annotations
        and not slo.severity_annotations
    )
    if not expressible:
        return None
    labels = dict(slo.labels or {})
    if slo.service.name != (labels.get("service") or slo.name):
        labels["service"] = slo.service.name
    metadata: dict = {"name": slo.name}
    if labels:
        metadata["labels"] = labels
    spec: dict = {}
    if slo.description:
        spec["description"] = slo.description
    spec.update(target=percent(slo.objective), window=slo.window_duration, indicator=indicator)
    alerting: dict = {}
    if name:
        alerting["name"] = name
    if not slo.page_alerts:
        alerting["burnrates"] = False
    if alerting:
        spec["alerting"] = alerting
    document = {"apiVersion": pyrra.API_VERSION, "kind": pyrra.KIND, "metadata": metadata}
    document["spec"] = spec
    return put_kept(document, slo.kept_fields or [])
