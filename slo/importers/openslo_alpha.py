"""OpenSLO v1alpha documents → import plan, as Sloth reads them.

Each objective of an SLO, with its ratioMetrics (good or bad over total, Prometheus queries), is
one SLO named `<service>-<name>-<index>` (Sloth's id for it), budgeted in Occurrences over the
spec's one time window (count and unit). Kinds: SLO and Service.
"""

from __future__ import annotations

from slo.choices import BudgetingMethod, IndicatorType, Origin
from slo.importers.documents import (
    QUERY_FIELDS,
    Node,
    Planned,
    Ref,
    Refused,
    labels_of,
    sli_texts,
    team_candidates,
)
from slo.importers.openslo import OBJECT_FIELDS, begin, calendar_fields

API_VERSION = "openslo/v1alpha"

ALPHA_UNITS = {"Day": "d", "Week": "w", "Month": "M", "Quarter": "Q", "Year": "Y"}


def parse(doc: Node) -> list[Planned]:
    kind = doc.value("kind")
    if kind == "Service":
        planned, _, spec = begin(doc, "Service", spec_required=False)
        spec.expect("an OpenSLO v1alpha Service spec", "description")
        return [planned]
    if kind != "SLO":
        raise Refused(doc.at("kind"), f"{kind!r}: OpenSLO v1alpha has SLO and Service")
    doc.expect("an OpenSLO v1alpha SLO", *OBJECT_FIELDS)
    doc.raw("apiVersion")
    meta = doc.node("metadata")
    meta.expect("OpenSLO v1alpha metadata", "name", "displayName", "labels")
    spec = doc.node("spec")
    spec.expect(
        "an OpenSLO v1alpha SLO spec",
        "service",
        "description",
        "budgetingMethod",
        "indicator",
        "objectives",
        "timeWindows",
    )
    if spec.has("indicator"):
        raise Refused(
            spec.at("indicator"),
            "a v1alpha thresholdMetric is not read (as Sloth does not): give ratioMetrics in "
            "the objectives, or write the SLO in OpenSLO v1 with a thresholdMetric",
        )
    method = spec.value("budgetingMethod")
    if method != BudgetingMethod.OCCURRENCES:
        raise Refused(
            spec.at("budgetingMethod"),
            f"{method!r}: v1alpha gives no time slice length, so SSOps reads Occurrences only; "
            "write the SLO in OpenSLO v1 (with timeSliceWindow) for time slices",
        )
    service, name = spec.value("service"), meta.value("name")
    labels = labels_of(meta)
    window = _alpha_window(spec)
    result = []
    for index, objective in enumerate(spec.nodes("objectives")):
        planned = Planned("SLO", f"{service}-{name}-{index}", "")
        planned.fields.update(
            origin=Origin.OPENSLO,
            display_name=meta.value("displayName", required=False, default=""),
            description=spec.value("description", required=False, default=""),
            labels=labels,
            budgeting_method=BudgetingMethod.OCCURRENCES,
            **window,
        )
        planned.paths.update(name=meta.at("name"), window_duration=spec.at("timeWindows"))
        planned.refs["service"] = Ref("Service", service, spec.at("service"), create=True)
        planned.team_names = team_candidates(labels, "team", "owner")
        _alpha_objective(objective, planned)
        result.append(planned)
    return result


def _alpha_window(spec: Node) -> dict:
    items = spec.nodes("timeWindows")
    if len(items) != 1:
        raise Refused(spec.at("timeWindows"), f"give one time window, not {len(items)}")
    window = items[0]
    window.expect("an OpenSLO v1alpha time window", "count", "unit", "isRolling", "calendar")
    count, unit = window.value("count", int), window.value("unit")
    if unit == "Second" and count % 3600 == 0:
        count, unit = (count // 86400, "Day") if count % 86400 == 0 else (count // 3600, "h")
    suffix = "h" if unit == "h" else ALPHA_UNITS.get(unit)
    if suffix is None:
        raise Refused(
            window.at("unit"),
            f"{unit!r} is not one of {', '.join(ALPHA_UNITS)} (or Second, in whole hours)",
        )
    planned = Planned("SLO", "", "")
    rolling = window.value("isRolling", bool, required=False, default=not window.has("calendar"))
    if rolling and window.has("calendar"):
        raise Refused(window.at("calendar"), "a rolling window has no calendar")
    calendar_fields(window, f"{count}{suffix}", rolling, planned)
    return planned.fields


def _alpha_objective(objective: Node, planned: Planned) -> None:
    objective.expect(
        "an OpenSLO v1alpha objective",
        "displayName",
        "value",
        "ratioMetrics",
        "target",
        "timeSliceTarget",
        "op",
    )
    target = objective.value("target", float)
    planned.paths["objective"] = objective.at("target")
    planned.fields.update(
        objective=target,
        objective_name=objective.value("displayName", required=False, default=""),
    )
    # value and op compare threshold metrics; kept where OpenSLO v1 has them (the export).
    for key in ("value", "op", "timeSliceTarget"):
        if objective.has(key):
            planned.kept.append([["spec", "objectives", 0, key], objective.raw(key)])
    ratio = objective.node("ratioMetrics")
    ratio.expect("v1alpha ratioMetrics", "good", "bad", "total", "counter", "incremental")
    ratio.raw("counter")
    ratio.raw("incremental")
    if ratio.has("good") == ratio.has("bad"):
        raise Refused(ratio.at("good"), "give exactly one of good, bad (and total)")
    numerator = "good" if ratio.has("good") else "bad"
    queries = {}
    for role, key in (("numerator", numerator), ("total", "total")):
        metric = ratio.node(key)
        metric.expect("a v1alpha metric source", "source", "queryType", "query", "metadata")
        metric.raw("metadata")
        source = metric.value("source")
        if source.lower() not in ("prometheus", "sloth"):
            raise Refused(metric.at("source"), f"{source!r}: SSOps reads Prometheus queries")
        query_type = metric.value("queryType")
        if query_type.lower() != "promql":
            raise Refused(metric.at("queryType"), f"{query_type!r}: give promql")
        queries[role] = metric.value("query")
        planned.paths[QUERY_FIELDS[role]] = metric.at("query")
    planned.fields.update(indicator_type=IndicatorType.RATIO, numerator_kind=numerator)
    sli_texts(planned, queries, [])
    planned.fields["kept_fields"] = planned.kept
