"""OpenSLO v2alpha `BudgetAdjustment` → import plan: planned maintenance.

As the OpenSLO go-sdk defines it: `spec.description` (SSOps also takes none), `spec.service`,
`spec.indicatorRef` (the SLI whose SLOs it adjusts; SSOps also takes an SLO's own name, and no
indicatorRef for every SLO of the service), `spec.startTime` (RFC 3339) and one of
`spec.endTime` or `spec.duration` (duration-shorthand: m, h, d, w). What the format has no
field for rides in `metadata.annotations`: `ssops.io/rrule` (an RFC 5545 RRULE, times in UTC)
makes the window recur; `ssops.io/reason` says why a window that has already begun is added.
Other v2alpha kinds are refused (write SLOs in OpenSLO v1).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from slo import windows
from slo.importers.documents import Node, Planned, Ref, Refused, labels_of, settle
from slo.maintenance import MaintenanceError, Schedule

API_VERSION = "openslo.com/v2alpha"
OBJECT_FIELDS = ("apiVersion", "kind", "metadata", "spec")
METADATA_FIELDS = ("name", "labels", "annotations")
SPEC_FIELDS = ("description", "service", "indicatorRef", "startTime", "endTime", "duration")
RRULE_ANNOTATION = "ssops.io/rrule"
REASON_ANNOTATION = "ssops.io/reason"
SHORTHAND_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def _moment(node: Node, key: str) -> datetime:
    text = node.value(key)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise Refused(node.at(key), f"{text!r} is not an RFC 3339 time") from None
    if moment.tzinfo is None:
        raise Refused(node.at(key), f"{text!r} needs a time zone offset, e.g. Z")
    return moment


def _duration(node: Node, key: str) -> timedelta:
    text = str(node.value(key, (str, int)))
    try:
        parsed = windows.parse_duration(text)
    except windows.WindowError as exc:
        raise Refused(node.at(key), str(exc)) from None
    if parsed.unit not in SHORTHAND_UNITS:
        raise Refused(node.at(key), f"{text}: v2alpha durations use m, h, d or w")
    return timedelta(seconds=parsed.count * SHORTHAND_UNITS[parsed.unit])


def _budget_adjustment(doc: Node) -> list[Planned]:
    doc.expect("an OpenSLO v2alpha BudgetAdjustment", *OBJECT_FIELDS)
    doc.raw("apiVersion")
    doc.raw("kind")
    meta = doc.node("metadata")
    meta.expect("OpenSLO v2alpha metadata", *METADATA_FIELDS)
    spec = doc.node("spec")
    spec.expect("a BudgetAdjustment spec", *SPEC_FIELDS)
    planned = Planned("BudgetAdjustment", meta.value("name"), "", keys=doc.keys)
    start = _moment(spec, "startTime")
    if spec.has("endTime") == spec.has("duration"):
        raise Refused(spec.at("endTime"), "give one of endTime or duration")
    if spec.has("endTime"):
        length = _moment(spec, "endTime") - start
        where = spec.at("endTime")
    else:
        length = _duration(spec, "duration")
        where = spec.at("duration")
    rrule, reason = "", ""
    annotations = meta.node("annotations", required=False)
    if annotations is not None:
        rrule = annotations.value(RRULE_ANNOTATION, required=False, default="")
        reason = annotations.value(REASON_ANNOTATION, required=False, default="")
    try:
        Schedule(start, length, rrule).check()
    except MaintenanceError as exc:
        path = annotations.at(RRULE_ANNOTATION) if exc.part == "rrule" else where
        raise Refused(path, str(exc)) from None
    planned.fields.update(
        description=spec.value("description", required=False, default=""),
        labels=labels_of(meta),
        first_start=start,
        duration_seconds=int(length.total_seconds()),
        rrule=rrule,
        reason=reason,
    )
    planned.paths.update(
        first_start=spec.at("startTime"),
        duration_seconds=where,
        rrule=f"metadata.annotations.{RRULE_ANNOTATION}",
        reason=f"metadata.annotations.{REASON_ANNOTATION}",
        slo=spec.at("indicatorRef"),
    )
    planned.refs["service"] = Ref("Service", spec.value("service"), spec.at("service"))
    indicator = spec.value("indicatorRef", required=False)
    if indicator:
        planned.indicator_ref = indicator
    return [planned]


def parse(doc: Node) -> list[Planned]:
    kind = doc.value("kind")
    if kind != "BudgetAdjustment":
        raise Refused(
            doc.at("kind"),
            f"SSOps reads the v2alpha kind BudgetAdjustment only, not {kind!r}: write SLOs, SLIs "
            "and services in OpenSLO v1",
        )
    planned = _budget_adjustment(doc)
    settle(doc, planned)
    return planned


def describe(document: dict) -> str:
    metadata = document.get("metadata") if isinstance(document.get("metadata"), dict) else {}
    return " ".join(str(x) for x in (document.get("kind"), metadata.get("name")) if x)
