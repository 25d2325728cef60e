"""OpenSLO v1 documents → import plan: SLO, SLI, Service, DataSource, AlertPolicy,
AlertCondition, AlertNotificationTarget; inline objects and *Ref references.

A ratioMetric gives good or bad, and total, queries — counter selectors, or any PromQL with
{{.window}} — or a raw ratio query (rawType success or failure). The label `ssops.io/group-by`
names labels the SLI is grouped by. (v1alpha: openslo_alpha.py.)
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

from slo import expressions, windows
from slo.choices import (
    BudgetingMethod,
    DataSourceKind,
    IndicatorType,
    NumeratorKind,
    Origin,
    WindowKind,
)
from slo.importers.documents import (
    QUERY_FIELDS,
    Node,
    Planned,
    Ref,
    Refused,
    labels_of,
    settle,
    sli_texts,
    team_candidates,
)

API_VERSION = "openslo/v1"
# SSOps's own settings ride in metadata.annotations, so that slo_export round-trips them.
ANNOTATION = "ssops.io/"
JSON_ANNOTATIONS = {
    "alert-labels": "alert_labels",
    "alert-annotations": "alert_annotations",
    "severity-annotations": "severity_annotations",
}
TEXT_ANNOTATIONS = {"runbook-url": "runbook_url", "dashboard-url": "dashboard_url"}
ORIGIN_ANNOTATION = ANNOTATION + "origin"  # what the SLO was first written in (e.g. sloth)
FLAG_ANNOTATIONS = {"page-alerts": "page_alerts", "ticket-alerts": "ticket_alerts"}
GROUP_BY_LABEL = ANNOTATION + "group-by"
SOURCE_TYPES = {"prometheus": DataSourceKind.PROMETHEUS, "ssops": DataSourceKind.PLATFORM}
OPS = ("lt", "lte", "gt", "gte")
OBJECT_FIELDS = ("apiVersion", "kind", "metadata", "spec")
METADATA_FIELDS = ("name", "displayName", "labels", "annotations")


def begin(doc: Node, kind: str, spec_required: bool = True) -> tuple[Planned, Node, Node]:
    """The object a document (or an inline object) plans, with the fields every OpenSLO object
    has; and its metadata and spec (an empty spec when optional and absent)."""
    doc.expect(f"an OpenSLO {kind}", *OBJECT_FIELDS)
    doc.raw("apiVersion")
    doc.raw("kind")
    meta = doc.node("metadata")
    meta.expect("OpenSLO metadata", *METADATA_FIELDS)
    spec = doc.node("spec", required=spec_required) or Node({}, "spec")
    planned = Planned(kind, meta.value("name"), "", keys=doc.keys)
    labels = labels_of(meta)
    planned.fields.update(
        display_name=meta.value("displayName", required=False, default=""),
        description=spec.value("description", required=False, default=""),
        labels=labels,
    )
    if GROUP_BY_LABEL in labels:
        group_by = labels.pop(GROUP_BY_LABEL)
        planned.fields["group_by"] = group_by if isinstance(group_by, list) else [group_by]
        planned.paths["group_by"] = f"{meta.at('labels')}.{GROUP_BY_LABEL}"
    planned.team_names = team_candidates(labels, "team", "owner")
    annotations = meta.node("annotations", required=False)
    if annotations is not None:
        team = annotations.value(ANNOTATION + "team", required=False)
        if team:
            planned.team_names.insert(0, team)
            planned.team_path = annotations.at(ANNOTATION + "team")
    return planned, meta, spec


def _ssops_annotations(meta: Node, planned: Planned) -> None:
    annotations = meta.node("annotations", required=False)
    if annotations is None:
        return
    for key, field_name in JSON_ANNOTATIONS.items():
        text = annotations.value(ANNOTATION + key, required=False)
        if text:
            try:
                planned.fields[field_name] = json.loads(text)
            except ValueError as exc:
                raise Refused(annotations.at(ANNOTATION + key), f"is not JSON: {exc}") from None
    for key, field_name in TEXT_ANNOTATIONS.items():
        planned.fields[field_name] = annotations.value(ANNOTATION + key, required=False, default="")
        planned.paths[field_name] = annotations.at(ANNOTATION + key)
    for key, field_name in FLAG_ANNOTATIONS.items():
        text = annotations.value(ANNOTATION + key, required=False, default="true")
        planned.fields[field_name] = text.lower() != "false"
    origin = annotations.value(ORIGIN_ANNOTATION, required=False)
    if origin in Origin.values:
        planned.fields["origin"] = origin


def _metric_source(node: Node) -> tuple[str, str, Node]:
    """(DataSource name or "", source kind, spec) of a metricSource."""
    node.expect("an OpenSLO metric", "metricSource")
    source = node.node("metricSource")
    source.expect("an OpenSLO metricSource", "metricSourceRef", "type", "spec")
    ref = source.value("metricSourceRef", required=False, default="")
    kind_name = source.value("type", required=not ref, default="")
    kind = SOURCE_TYPES.get(kind_name.lower()) if kind_name else ""
    if kind_name and kind is None:
        raise Refused(
            source.at("type"),
            f"{kind_name!r} is not a data source SSOps reads: use Prometheus (or SSOps for its "
            "own records)",
        )
    return ref, kind or "", source.node("spec")


def indicator_fields(spec: Node, planned: Planned, what: str = "an OpenSLO SLI spec") -> None:
    """The SLI's measure (ratioMetric or thresholdMetric) into model fields and references."""
    spec.expect(what, "description", "thresholdMetric", "ratioMetric")
    ratio = spec.node("ratioMetric", required=False)
    threshold = spec.node("thresholdMetric", required=False)
    if (ratio is None) == (threshold is None):
        raise Refused(spec.at("ratioMetric"), "give exactly one of ratioMetric, thresholdMetric")
    if ratio is not None:
        sources = _ratio_metric(ratio, planned)
    else:
        ref, kind, source_spec = _metric_source(threshold)
        planned.fields.update(
            indicator_type=IndicatorType.THRESHOLD,
            numerator_kind="",
            threshold_query=source_spec.value("query"),
        )
        planned.paths["threshold_query"] = source_spec.at("query")
        sources = [(ref, kind, threshold.path)]
    ref, kind, path = sources[0]
    planned.source_kind = kind or DataSourceKind.PROMETHEUS
    if ref:
        planned.refs["data_source"] = Ref("DataSource", ref, f"{path}.metricSource.metricSourceRef")
    planned.paths["data_source"] = f"{path}.metricSource"


def _ratio_metric(ratio: Node, planned: Planned) -> list[tuple[str, str, str]]:
    ratio.expect("an OpenSLO ratioMetric", "counter", "good", "bad", "total", "rawType", "raw")
    counter = ratio.value("counter", bool, required=False)
    group_by = planned.fields.get("group_by", [])
    if ratio.has("raw") or ratio.has("rawType"):
        raw_type = ratio.value("rawType")
        if raw_type not in ("success", "failure"):
            raise Refused(ratio.at("rawType"), f"{raw_type!r} is not one of success, failure")
        ref, kind, source_spec = _metric_source(ratio.node("raw"))
        planned.paths["ratio_query"] = source_spec.at("query")
        planned.fields.update(
            indicator_type=IndicatorType.RAW,
            numerator_kind=NumeratorKind.GOOD if raw_type == "success" else NumeratorKind.BAD,
        )
        sli_texts(planned, {"ratio": source_spec.value("query")}, group_by, raw=True)
        return [(ref, kind, ratio.at("raw"))]
    if ratio.has("good") == ratio.has("bad"):
        raise Refused(ratio.at("good"), "give exactly one of good, bad (and total)")
    numerator = "good" if ratio.has("good") else "bad"
    sources, queries = [], {}
    for role, key in (("numerator", numerator), ("total", "total")):
        ref, kind, source_spec = _metric_source(ratio.node(key))
        query = source_spec.value("query")
        planned.paths[QUERY_FIELDS[role]] = source_spec.at("query")
        if counter is False and not expressions.is_templated(query):
            raise Refused(
                source_spec.at("query"),
                "counter: false says the query is not a counter, so SSOps cannot count its "
                "increase: give counters (counter: true), or write the query with {{.window}} "
                "so that Prometheus evaluates it over each window",
            )
        queries[role] = query
        sources.append((ref, kind, ratio.at(key)))
    planned.fields.update(indicator_type=IndicatorType.RATIO, numerator_kind=numerator)
    if sources[0][:2] != sources[1][:2]:
        raise Refused(
            f"{sources[1][2]}.metricSource",
            f"{numerator} and total must come from the same data source",
        )
    sli_texts(planned, queries, group_by)
    return sources


def _slo(doc: Node) -> list[Planned]:
    planned, meta, spec = begin(doc, "SLO")
    spec.expect(
        "an OpenSLO SLO spec",
        "description",
        "service",
        "indicator",
        "indicatorRef",
        "timeWindow",
        "budgetingMethod",
        "objectives",
        "alertPolicies",
    )
    planned.fields["origin"] = Origin.OPENSLO
    _ssops_annotations(meta, planned)
    planned.refs["service"] = Ref("Service", spec.value("service"), spec.at("service"), create=True)
    if spec.has("indicatorRef"):
        planned.refs["indicator"] = Ref("SLI", spec.value("indicatorRef"), spec.at("indicatorRef"))
    else:
        indicator = spec.node("indicator")
        indicator.expect("an inline OpenSLO SLI", "metadata", "spec")
        indicator_meta = indicator.node("metadata", required=False)
        if indicator_meta is not None:
            indicator_meta.expect("OpenSLO metadata", *METADATA_FIELDS)
        planned.fields["indicator_name"] = (
            indicator_meta.value("name", required=False, default="") if indicator_meta else ""
        )
        indicator_fields(indicator.node("spec"), planned)
    _time_window(spec, planned)
    method = spec.value("budgetingMethod")
    if method not in BudgetingMethod.values:
        raise Refused(
            spec.at("budgetingMethod"), f"{method!r} is not one of {', '.join(BudgetingMethod)}"
        )
    planned.fields["budgeting_method"] = method
    planned.paths["budgeting_method"] = spec.at("budgetingMethod")
    _objective(spec, planned)
    extra = []
    planned.many["alert_policies"] = []
    for item in spec.nodes("alertPolicies", required=False):
        if item.has("alertPolicyRef"):
            item.expect("an alert policy reference", "alertPolicyRef")
            ref = Ref("AlertPolicy", item.value("alertPolicyRef"), item.at("alertPolicyRef"))
        else:
            inline = _alert_policy(_inline(item, "AlertPolicy"))
            extra.extend(inline)
            ref = Ref("AlertPolicy", inline[-1].name, item.path)
        planned.many["alert_policies"].append(ref)
    return [*extra, planned]


def _time_window(spec: Node, planned: Planned) -> None:
    items = spec.nodes("timeWindow")
    if len(items) != 1:
        raise Refused(spec.at("timeWindow"), f"give one time window, not {len(items)}")
    window = items[0]
    window.expect("an OpenSLO timeWindow", "duration", "isRolling", "calendar")
    duration = window.value("duration")
    planned.paths.update(window_duration=window.at("duration"))
    rolling = window.value("isRolling", bool, required=False, default=not window.has("calendar"))
    calendar_fields(window, duration, rolling, planned)


def calendar_fields(window: Node, duration: str, rolling: bool, planned: Planned) -> None:
    """A rolling window, or a calendar one from window.calendar (startTime, timeZone)."""
    calendar = window.node("calendar", required=False)
    if rolling:  # a calendar given anyway is kept, not used
        planned.fields.update(window_kind=WindowKind.ROLLING, window_duration=duration)
        return
    if calendar is None:
        raise Refused(window.at("calendar"), "a calendar window (isRolling: false) needs calendar")
    calendar.expect("an OpenSLO calendar", "startTime", "timeZone")
    tz_name = calendar.value("timeZone")
    try:
        tz = windows.time_zone(tz_name)
    except windows.WindowError as exc:
        raise Refused(calendar.at("timeZone"), str(exc)) from None
    start = calendar.value("startTime", (str, datetime))
    if isinstance(start, str):
        try:
            start = datetime.fromisoformat(start)
        except ValueError:
            raise Refused(
                calendar.at("startTime"), f"{start!r} is not a time like 2022-01-01 12:00:00"
            ) from None
    planned.fields.update(
        window_kind=WindowKind.CALENDAR,
        window_duration=duration,
        calendar_start=start.replace(tzinfo=tz) if start.tzinfo is None else start,
        calendar_tz=tz_name,
    )
    planned.paths.update(
        calendar_start=calendar.at("startTime"), calendar_tz=calendar.at("timeZone")
    )


def _objective(spec: Node, planned: Planned) -> None:
    objectives = spec.nodes("objectives")
    if len(objectives) != 1:
        raise Refused(
            spec.at("objectives"),
            f"{len(objectives)} objectives: SSOps keeps one objective per SLO; write one SLO per "
            "objective",
        )
    objective = objectives[0]
    objective.expect(
        "an OpenSLO objective",
        "displayName",
        "op",
        "value",
        "target",
        "targetPercent",
        "timeSliceTarget",
        "timeSliceWindow",
        "indicator",
        "indicatorRef",
        "compositeWeight",
    )
    for composite in ("indicator", "indicatorRef", "compositeWeight"):
        if objective.has(composite):
            raise Refused(objective.at(composite), "composite objectives are not supported")
    if objective.has("targetPercent"):
        percent = objective.value("targetPercent", float)
        target = float(Decimal(str(percent)) / 100)
        planned.paths["objective"] = objective.at("targetPercent")
    else:
        target = objective.value("target", float)
        planned.paths["objective"] = objective.at("target")
    planned.fields.update(
        objective=target,
        objective_name=objective.value("displayName", required=False, default=""),
    )
    if objective.has("timeSliceTarget"):
        planned.fields["timeslice_target"] = objective.value("timeSliceTarget", float)
    if objective.has("timeSliceWindow"):
        planned.fields["timeslice_window"] = str(objective.value("timeSliceWindow", (str, int)))
    planned.paths.update(
        timeslice_target=objective.at("timeSliceTarget"),
        timeslice_window=objective.at("timeSliceWindow"),
        threshold_op=objective.at("op"),
        threshold_value=objective.at("value"),
    )
    # op and value compare a threshold metric; for a ratio they mean nothing to SSOps, and are
    # kept for the round trip.
    is_threshold = planned.fields.get("indicator_type") == IndicatorType.THRESHOLD
    if is_threshold or "indicator" in planned.refs:
        op = objective.value("op", required=is_threshold, default="")
        if op and op not in OPS:
            raise Refused(objective.at("op"), f"{op!r} is not one of {', '.join(OPS)}")
        planned.fields.update(
            threshold_op=op,
            threshold_value=objective.value("value", float, required=is_threshold),
        )


def _inline(item: Node, kind: str) -> Node:
    found = item.value("kind", required=False, default=kind)
    if found != kind:
        raise Refused(item.at("kind"), f"expected an inline {kind}, got {found}")
    return item


def _sli(doc: Node) -> list[Planned]:
    planned, _, spec = begin(doc, "SLI")
    indicator_fields(spec, planned)
    return [planned]


def _service(doc: Node) -> list[Planned]:
    planned, _, spec = begin(doc, "Service", spec_required=False)
    spec.expect("an OpenSLO Service spec", "description")
    return [planned]


def _data_source(doc: Node) -> list[Planned]:
    planned, _, spec = begin(doc, "DataSource")
    spec.expect("an OpenSLO DataSource spec", "description", "type", "connectionDetails")
    kind_name = spec.value("type")
    kind = SOURCE_TYPES.get(kind_name.lower())
    if kind is None:
        raise Refused(
            spec.at("type"),
            f"{kind_name!r} is not a data source SSOps reads: use Prometheus (or SSOps for its own "
            "records)",
        )
    details = spec.raw("connectionDetails", {})
    items = details if isinstance(details, list) else [details]
    urls = []
    for number, item in enumerate(items):
        where = spec.at("connectionDetails") + (f"[{number}]" if isinstance(details, list) else "")
        if not isinstance(item, dict):
            raise Refused(where, "expected a mapping with url")
        for key, value in item.items():
            if key != "url":
                raise Refused(
                    f"{where}.{key}",
                    "SSOps reaches a Prometheus by its url alone (credentials are not taken "
                    "from SLO files): remove it",
                )
            urls.append(str(value))
    planned.fields.update(kind=kind, url=urls[0] if urls and urls[0] else "")
    planned.paths["url"] = spec.at("connectionDetails")
    return [planned]


def _target(doc: Node) -> list[Planned]:
    planned, _, spec = begin(doc, "AlertNotificationTarget")
    spec.expect("an OpenSLO AlertNotificationTarget spec", "description", "target")
    planned.fields["target"] = spec.value("target")
    return [planned]


def _condition(doc: Node) -> list[Planned]:
    planned, _, spec = begin(doc, "AlertCondition")
    spec.expect("an OpenSLO AlertCondition spec", "description", "severity", "condition")
    condition = spec.node("condition")
    condition.expect(
        "an OpenSLO condition", "kind", "op", "threshold", "lookbackWindow", "alertAfter"
    )
    kind = condition.value("kind")
    if kind != "burnrate":
        raise Refused(condition.at("kind"), f"{kind!r}: only burnrate conditions exist in v1")
    op = condition.value("op")
    if op not in OPS:
        raise Refused(condition.at("op"), f"{op!r} is not one of {', '.join(OPS)}")
    lookback = condition.value("lookbackWindow")
    try:
        windows.parse_duration(lookback)
    except windows.WindowError as exc:
        raise Refused(condition.at("lookbackWindow"), str(exc)) from None
    planned.fields.update(
        severity=spec.value("severity"),
        kind=kind,
        op=op,
        threshold=condition.value("threshold", float),
        lookback_window=lookback,
        alert_after=condition.value("alertAfter", required=False, default=""),
    )
    return [planned]


def _alert_policy(doc: Node) -> list[Planned]:
    planned, _, spec = begin(doc, "AlertPolicy")
    spec.expect(
        "an OpenSLO AlertPolicy spec",
        "description",
        "alertWhenNoData",
        "alertWhenResolved",
        "alertWhenBreaching",
        "conditions",
        "notificationTargets",
    )
    planned.fields.update(
        alert_when_breaching=spec.value("alertWhenBreaching", bool, required=False, default=True),
        alert_when_resolved=spec.value("alertWhenResolved", bool, required=False, default=False),
        alert_when_no_data=spec.value("alertWhenNoData", bool, required=False, default=False),
    )
    extra: list[Planned] = []
    for key, ref_key, kind, parse in (
        ("conditions", "conditionRef", "AlertCondition", _condition),
        ("notificationTargets", "targetRef", "AlertNotificationTarget", _target),
    ):
        refs = []
        for item in spec.nodes(key, required=key == "conditions"):
            if item.has(ref_key):
                item.expect(f"a {kind} reference", ref_key)
                refs.append(Ref(kind, item.value(ref_key), item.at(ref_key)))
            else:
                inline = parse(_inline(item, kind))
                extra.extend(inline)
                refs.append(Ref(kind, inline[-1].name, item.path))
        planned.many["conditions" if key == "conditions" else "notification_targets"] = refs
    return [*extra, planned]


PARSERS = {
    "SLO": _slo,
    "SLI": _sli,
    "Service": _service,
    "DataSource": _data_source,
    "AlertPolicy": _alert_policy,
    "AlertCondition": _condition,
    "AlertNotificationTarget": _target,
}


def parse(doc: Node) -> list[Planned]:
    kind = doc.value("kind")
    parser = PARSERS.get(kind)
    if parser is None:
        raise Refused(doc.at("kind"), f"{kind!r} is not one of {', '.join(PARSERS)}")
    planned = parser(doc)
    settle(doc, planned)
    return planned


def describe(document: dict) -> str:
    metadata = document.get("metadata") if isinstance(document.get("metadata"), dict) else {}
    return " ".join(str(x) for x in (document.get("kind"), metadata.get("name")) if x)
