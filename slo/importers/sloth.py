"""Sloth specs → import plan: `prometheus/v1` files and the Kubernetes form
(`sloth.slok.dev/v1` `PrometheusServiceLevel`, its fields in camelCase).

Each SLO is named `<service>-<name>` (Sloth's id for it), over Sloth's default 30-day rolling
window, or the period given to slo_import (--sloth-period, as Sloth's --default-slo-period; an
SLO already in SSOps keeps its period when none is given). `events` SLIs give error_query over
total_query; `raw` SLIs give error_ratio_query. Labels of any scalar type are taken as text, as
Sloth does. Go plugins (SLI and SLO plugins) cannot run here and are refused.
"""

from __future__ import annotations

from decimal import Decimal

from slo.choices import BudgetingMethod, IndicatorType, NumeratorKind, Origin, WindowKind
from slo.importers.documents import Node, Planned, Ref, Refused, sli_texts, team_candidates

VERSION = "prometheus/v1"
K8S_API_VERSION = "sloth.slok.dev/v1"
K8S_KIND = "PrometheusServiceLevel"
WINDOW = "30d"
K8S_METADATA = (
    "name",
    "namespace",
    "labels",
    "annotations",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "ownerReferences",
    "finalizers",
    "managedFields",
    "generateName",
    "selfLink",
)


class Dialect:
    """Field names of one form of the spec (the Kubernetes form writes them in camelCase)."""

    def __init__(self, kubernetes: bool):
        self.kubernetes = kubernetes
        self.what = f"Sloth {K8S_KIND}" if kubernetes else f"Sloth {VERSION}"

    def __call__(self, snake: str) -> str:
        if not self.kubernetes:
            return snake
        head, *rest = snake.split("_")
        return head + "".join(part.title() for part in rest)


SNAKE, CAMEL = Dialect(False), Dialect(True)


def text_of(value, where: str) -> str:
    """A label value as Sloth takes it: text, whatever YAML type it was written as."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, str | int | float):
        return str(value)
    raise Refused(where, "a label value is text (or a number or true/false), not a list or mapping")


def string_map(node: Node, key: str) -> dict[str, str]:
    value = node.raw(key, {})
    if not isinstance(value, dict):
        raise Refused(node.at(key), "expected a mapping of names to values")
    return {str(k): text_of(v, f"{node.at(key)}.{k}") for k, v in value.items()}


def _refuse_plugins(node: Node, key: str, what: str) -> None:
    plugins = node.node(key, required=False)
    if plugins is None:
        return
    chain = plugins.raw("chain", [])
    items = chain if isinstance(chain, list) else []
    ids = [str(p.get("id")) for p in items if isinstance(p, dict)]
    raise Refused(
        node.at(key),
        f"{what} {', '.join(ids) or '(none named)'} are Go code that runs inside Sloth and "
        "cannot run in SSOps; remove them: SSOps writes the SLI, burn-rate and alert rules "
        "itself (slo_rules), with its own multi-window, multi-burn-rate alerts",
    )


def _sli(sli: Node, dialect: Dialect, planned: Planned) -> None:
    sli.expect(f"{dialect.what} sli", "raw", "events", "plugin")
    plugin = sli.node("plugin", required=False)
    if plugin is not None:
        raise Refused(
            plugin.at("id"),
            f"the SLI plugin {plugin.raw('id', '(no id)')!r} is Go code that runs inside Sloth "
            "and cannot run in SSOps: write the queries it generates as sli.events "
            f"({dialect('error_query')}, {dialect('total_query')}) or sli.raw "
            f"({dialect('error_ratio_query')}), with {{{{.window}}}} where the window goes",
        )
    if sli.has("events") == sli.has("raw"):
        raise Refused(sli.at("events"), "give exactly one of events, raw")
    planned.fields["numerator_kind"] = NumeratorKind.BAD
    if sli.has("raw"):
        raw = sli.node("raw")
        raw.expect(f"{dialect.what} raw SLI", dialect("error_ratio_query"))
        planned.fields["indicator_type"] = IndicatorType.RAW
        planned.paths["ratio_query"] = raw.at(dialect("error_ratio_query"))
        query = raw.value(dialect("error_ratio_query"))
        sli_texts(planned, {"ratio": query}, [], raw=True)
        return
    events = sli.node("events")
    keys = {"numerator": dialect("error_query"), "total": dialect("total_query")}
    events.expect(f"{dialect.what} events SLI", *keys.values())
    planned.fields["indicator_type"] = IndicatorType.RATIO
    planned.paths.update(
        numerator_query=events.at(keys["numerator"]), total_query=events.at(keys["total"])
    )
    sli_texts(planned, {role: events.value(key) for role, key in keys.items()}, [])


def _alerting(slo: Node, dialect: Dialect, planned: Planned) -> None:
    alerting = slo.node("alerting", required=False)
    if alerting is None:
        return
    alerting.expect(
        f"{dialect.what} alerting",
        "name",
        "labels",
        "annotations",
        dialect("page_alert"),
        dialect("ticket_alert"),
    )
    labels = {"*": string_map(alerting, "labels")}
    if alerting.has("name"):
        labels["*"]["alertname"] = alerting.value("name")
    annotations = string_map(alerting, "annotations")
    by_severity = {}
    for severity, key in (("page", dialect("page_alert")), ("ticket", dialect("ticket_alert"))):
        part = alerting.node(key, required=False)
        if part is None:
            continue
        part.expect(f"{dialect.what} {key}", "disable", "labels", "annotations")
        planned.fields[f"{severity}_alerts"] = not part.value("disable", bool, required=False)
        if part.has("labels"):
            labels[severity] = string_map(part, "labels")
        if part.has("annotations"):
            by_severity[severity] = string_map(part, "annotations")
    planned.fields.update(
        alert_labels=labels,
        alert_annotations=annotations,
        severity_annotations=by_severity,
        runbook_url=annotations.get("runbook_url", annotations.get("runbook", "")),
    )
    planned.paths.update(runbook_url=alerting.at("annotations"), alert_labels=alerting.at("labels"))


def _slos(spec: Node, dialect: Dialect, period: str | None, origin: str) -> list[Planned]:
    """The SLOs of a spec (the document of prometheus/v1, or the spec of the Kubernetes form)."""
    _refuse_plugins(spec, dialect("slo_plugins"), "the SLO plugins")
    service = spec.value("service")
    labels = string_map(spec, "labels")
    result = []
    for slo in spec.nodes("slos"):
        slo.expect(
            f"a {dialect.what} SLO",
            "name",
            "description",
            "objective",
            "labels",
            "infoLabels",
            "sli",
            "alerting",
            "interval",
            "plugins",
        )
        _refuse_plugins(slo, "plugins", "the SLO plugins")
        slo_labels = {**labels, **string_map(slo, "labels")}
        planned = Planned("SLO", f"{service}-{slo.value('name')}", "", keys=slo.keys)
        planned.fields.update(
            origin=origin,
            description=slo.value("description", required=False, default=""),
            labels=slo_labels,
            objective=float(Decimal(str(slo.value("objective", float))) / 100),
            budgeting_method=BudgetingMethod.OCCURRENCES,
            group_by=[],
            # what a spec without alerting means; _alerting reads what it says
            page_alerts=True,
            ticket_alerts=True,
            alert_labels={},
            alert_annotations={},
            severity_annotations={},
            runbook_url="",
        )
        planned.defaults.update(window_kind=WindowKind.ROLLING, window_duration=WINDOW)
        if period:
            planned.fields.update(window_kind=WindowKind.ROLLING, window_duration=period)
        planned.paths.update(
            name=slo.at("name"), objective=slo.at("objective"), window_duration="--sloth-period"
        )
        planned.refs["service"] = Ref("Service", service, spec.at("service"), create=True)
        planned.team_names = team_candidates(slo_labels, "team", "owner")
        planned.team_path = slo.at("labels")
        _sli(slo.node("sli"), dialect, planned)
        _alerting(slo, dialect, planned)
        result.append(planned)
    return result


def parse(doc: Node, period: str | None = None) -> list[Planned]:
    doc.expect(f"a Sloth {VERSION} spec", "version", "service", "labels", "slos", "slo_plugins")
    doc.raw("version")
    planned = _slos(doc, SNAKE, period, Origin.SLOTH)
    _settle_entries(doc, planned, ("slos",))
    return planned


def parse_kubernetes(doc: Node, period: str | None = None) -> list[Planned]:
    doc.expect(f"a {K8S_KIND}", "apiVersion", "kind", "metadata", "spec", "status")
    doc.raw("apiVersion")
    kind = doc.value("kind")
    if kind != K8S_KIND:
        reason = (
            "SSOps alerts with its own multi-window, multi-burn-rate windows, scaled to each "
            "SLO's period; remove it"
            if kind == "AlertWindows"
            else f"{K8S_API_VERSION} SLOs are written as {K8S_KIND}"
        )
        raise Refused(doc.at("kind"), f"{kind!r}: {reason}")
    meta = doc.node("metadata")
    meta.expect("Kubernetes metadata", *K8S_METADATA)
    if not meta.has("name"):  # not used, but kept to write the object back
        raise Refused(meta.at("name"), "is required")
    spec = doc.node("spec")
    spec.expect(f"a {K8S_KIND} spec", "service", "labels", "slos", "sloPlugins")
    planned = _slos(spec, CAMEL, period, Origin.SLOTH_K8S)
    _settle_entries(doc, planned, ("spec", "slos"))
    return planned


def _settle_entries(doc: Node, planned: list[Planned], entries: tuple) -> None:
    """Keep what SSOps does not use: the document's own (for every SLO of it) and each SLO's
    entry, the entry's index written "*"."""
    depth = len(entries)
    for keys, value in doc.unread():
        if keys[:depth] != entries:
            for item in planned:
                item.kept.append([list(keys), value])
            continue
        for item in planned:
            if keys[: depth + 1] == item.keys:
                item.kept.append([[*entries, "*", *keys[depth + 1 :]], value])
    for item in planned:
        item.fields["kept_fields"] = item.kept


def describe(document: dict) -> str:
    if document.get("apiVersion") == K8S_API_VERSION:
        metadata = document.get("metadata") if isinstance(document.get("metadata"), dict) else {}
        return " ".join(str(x) for x in (document.get("kind"), metadata.get("name")) if x)
    return f"Sloth service {document.get('service')}"
