"""`slo_export`: everything `slo_import` stored, written back out, each SLO in the format it came
in (native_exports.py writes Sloth and Pyrra), planned maintenance as OpenSLO v2alpha
BudgetAdjustments, everything else as OpenSLO v1.

The SSOps settings OpenSLO has no field for (owner team, alert labels, runbook) ride in
`metadata.annotations` under `ssops.io/` (the grouping in the label `ssops.io/group-by`), which
slo_import reads back; the fields of an imported document that SSOps does not use come back
where they were.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import timedelta

from django.db.models import QuerySet

from slo import native_exports
from slo.choices import DataSourceKind, IndicatorType, NumeratorKind, WindowKind
from slo.importers import openslo_v2alpha as v2alpha
from slo.importers.documents import put_kept
from slo.importers.openslo import (
    ANNOTATION,
    API_VERSION,
    FLAG_ANNOTATIONS,
    GROUP_BY_LABEL,
    JSON_ANNOTATIONS,
    ORIGIN_ANNOTATION,
    TEXT_ANNOTATIONS,
)
from slo.models import (
    SLO,
    AlertCondition,
    AlertNotificationTarget,
    AlertPolicy,
    BudgetAdjustment,
    DataSource,
    Indicator,
    Service,
)
from slo.windows import time_zone

SOURCE_TYPES = {DataSourceKind.PROMETHEUS: "Prometheus", DataSourceKind.PLATFORM: "SSOps"}


def _document(kind: str, obj, spec: dict, annotations: dict | None = None) -> dict:
    metadata: dict = {"name": obj.name}
    if obj.display_name:
        metadata["displayName"] = obj.display_name
    labels = dict(obj.labels or {})
    if getattr(obj, "group_by", None):
        labels[GROUP_BY_LABEL] = list(obj.group_by)
    if labels:
        metadata["labels"] = labels
    if annotations:
        metadata["annotations"] = annotations
    if getattr(obj, "description", ""):
        spec = {"description": obj.description, **spec}
    document = {"apiVersion": API_VERSION, "kind": kind, "metadata": metadata, "spec": spec}
    return put_kept(document, obj.kept_fields or [])


def _metric_source(obj, query: str) -> dict:
    source = obj.data_source
    metric_source: dict = {"type": SOURCE_TYPES[source.kind if source else "prometheus"]}
    if source is not None:
        metric_source = {"metricSourceRef": source.name, **metric_source}
    return {"metricSource": {**metric_source, "spec": {"query": query}}}


def indicator_spec(obj) -> dict:
    if obj.indicator_type == IndicatorType.THRESHOLD:
        return {"thresholdMetric": _metric_source(obj, obj.threshold_query)}
    if obj.indicator_type == IndicatorType.RAW:
        raw_type = "success" if obj.numerator_kind == NumeratorKind.GOOD else "failure"
        return {"ratioMetric": {"rawType": raw_type, "raw": _metric_source(obj, obj.ratio_query)}}
    return {
        "ratioMetric": {
            "counter": True,
            obj.numerator_kind: _metric_source(obj, obj.numerator_query),
            "total": _metric_source(obj, obj.total_query),
        }
    }


def _time_window(slo: SLO) -> dict:
    if slo.window_kind == WindowKind.ROLLING:
        return {"duration": slo.window_duration, "isRolling": True}
    local = slo.calendar_start.astimezone(time_zone(slo.calendar_tz))
    calendar = {"startTime": local.strftime("%Y-%m-%d %H:%M:%S"), "timeZone": slo.calendar_tz}
    return {"duration": slo.window_duration, "isRolling": False, "calendar": calendar}


def _objective(slo: SLO) -> dict:
    objective: dict = {"target": slo.objective}
    if slo.objective_name:
        objective["displayName"] = slo.objective_name
    if slo.threshold_op:
        objective.update(op=slo.threshold_op, value=slo.threshold_value)
    if slo.timeslice_target is not None:
        objective["timeSliceTarget"] = slo.timeslice_target
    if slo.timeslice_window:
        objective["timeSliceWindow"] = slo.timeslice_window
    return objective


def _slo_annotations(slo: SLO) -> dict:
    annotations = {ANNOTATION + "team": slo.team.slug, ORIGIN_ANNOTATION: slo.origin}
    for key, field in JSON_ANNOTATIONS.items():
        if getattr(slo, field):
            annotations[ANNOTATION + key] = json.dumps(getattr(slo, field), sort_keys=True)
    for key, field in TEXT_ANNOTATIONS.items():
        if getattr(slo, field):
            annotations[ANNOTATION + key] = getattr(slo, field)
    for key, field in FLAG_ANNOTATIONS.items():
        if not getattr(slo, field):
            annotations[ANNOTATION + key] = "false"
    return annotations


def slo_document(slo: SLO) -> dict:
    spec: dict = {"service": slo.service.name}
    if slo.indicator is not None:
        spec["indicatorRef"] = slo.indicator.name
    else:
        indicator: dict = {"spec": indicator_spec(slo)}
        if slo.indicator_name:
            indicator = {"metadata": {"name": slo.indicator_name}, **indicator}
        spec["indicator"] = indicator
    spec.update(
        timeWindow=[_time_window(slo)],
        budgetingMethod=slo.budgeting_method,
        objectives=[_objective(slo)],
    )
    policies = [{"alertPolicyRef": p.name} for p in slo.alert_policies.all()]
    if policies:
        spec["alertPolicies"] = policies
    return _document("SLO", slo, spec, _slo_annotations(slo))


def export_documents(slos: QuerySet[SLO] | None = None) -> list[dict]:
    """Documents for the SLOs (all by default; the groups of a grouped SLO come from their
    definition) and every object they may refer to."""
    slos = (slos if slos is not None else SLO.objects.all()).filter(parent=None)
    slos = slos.select_related("service__team", "team", "data_source", "indicator")
    documents: list[dict] = []
    documents += [
        _document("DataSource", s, _data_source_spec(s)) for s in DataSource.objects.all()
    ]
    documents += [
        _document("Service", s, {}, {ANNOTATION + "team": s.team.slug})
        for s in Service.objects.select_related("team")
    ]
    documents += [
        _document("AlertNotificationTarget", t, {"target": t.target})
        for t in AlertNotificationTarget.objects.all()
    ]
    documents += [
        _document("AlertCondition", c, _condition_spec(c)) for c in AlertCondition.objects.all()
    ]
    documents += [_document("AlertPolicy", p, _policy_spec(p)) for p in _policies()]
    documents += [
        _document("SLI", i, indicator_spec(i))
        for i in Indicator.objects.select_related("data_source")
    ]
    native, openslo = native_exports.native_documents(
        list(slos.order_by("name").prefetch_related("alert_policies"))
    )
    documents += [slo_document(slo) for slo in openslo]
    services = {slo.service_id for slo in slos}
    adjustments = BudgetAdjustment.objects.filter(service_id__in=services).select_related(
        "service", "slo"
    )
    return documents + native + [adjustment_document(a) for a in adjustments.order_by("name")]


def _shorthand(seconds: int) -> str:
    for unit, size in (("w", 7 * 86400), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return ""


def adjustment_document(adjustment: BudgetAdjustment) -> dict:
    """Planned maintenance as OpenSLO v2alpha's BudgetAdjustment (the recurrence and the reason
    in `ssops.io/` annotations, as slo_import reads them)."""
    metadata: dict = {"name": adjustment.name}
    if adjustment.labels:
        metadata["labels"] = dict(adjustment.labels)
    annotations = {
        key: value
        for key, value in (
            (v2alpha.RRULE_ANNOTATION, adjustment.rrule),
            (v2alpha.REASON_ANNOTATION, adjustment.reason),
        )
        if value
    }
    if annotations:
        metadata["annotations"] = annotations
    start = adjustment.first_start
    spec: dict = {"description": adjustment.description, "service": adjustment.service.name}
    if adjustment.slo_id:
        spec["indicatorRef"] = adjustment.slo.name
    spec["startTime"] = start.isoformat().replace("+00:00", "Z")
    duration = _shorthand(adjustment.duration_seconds)
    if duration:
        spec["duration"] = duration
    else:
        end = start + timedelta(seconds=adjustment.duration_seconds)
        spec["endTime"] = end.isoformat().replace("+00:00", "Z")
    document = {
        "apiVersion": v2alpha.API_VERSION,
        "kind": "BudgetAdjustment",
        "metadata": metadata,
        "spec": spec,
    }
    return put_kept(document, adjustment.kept_fields or [])


def _data_source_spec(source: DataSource) -> dict:
    spec: dict = {"type": SOURCE_TYPES[source.kind]}
    if source.url:
        spec["connectionDetails"] = {"url": source.url}
    return spec


def _condition_spec(condition: AlertCondition) -> dict:
    rule = {
        "kind": condition.kind,
        "op": condition.op,
        "threshold": condition.threshold,
        "lookbackWindow": condition.lookback_window,
    }
    if condition.alert_after:
        rule["alertAfter"] = condition.alert_after
    return {"severity": condition.severity, "condition": rule}


def _policies() -> Iterable[AlertPolicy]:
    return AlertPolicy.objects.prefetch_related("conditions", "notification_targets")


def _policy_spec(policy: AlertPolicy) -> dict:
    return {
        "alertWhenBreaching": policy.alert_when_breaching,
        "alertWhenResolved": policy.alert_when_resolved,
        "alertWhenNoData": policy.alert_when_no_data,
        "conditions": [{"conditionRef": c.name} for c in policy.conditions.all()],
        "notificationTargets": [{"targetRef": t.name} for t in policy.notification_targets.all()],
    }
