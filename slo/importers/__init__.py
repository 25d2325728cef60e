"""`slo_import`: SLO files → an import plan (see documents.py).

OpenSLO v1 and v1alpha (and v2alpha's BudgetAdjustment: planned maintenance), Sloth
prometheus/v1 and its Kubernetes form (PrometheusServiceLevel),
Pyrra ServiceLevelObjective; several documents per file, in any mix, and Kubernetes lists
(`kind: List` and its kin, `items`) of them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from slo.importers import openslo, openslo_alpha, openslo_v2alpha, pyrra, sloth
from slo.importers.documents import (
    ImportRefused,
    Node,
    Planned,
    Ref,
    Refused,
    load_documents,
    read_text,
)

__all__ = ["ImportRefused", "Planned", "Ref", "Refused", "plan_file", "plan_text"]

FORMATS: dict[str, tuple[Callable[[dict], str], Callable[..., list[Planned]]]] = {
    openslo.API_VERSION: (openslo.describe, openslo.parse),
    openslo_alpha.API_VERSION: (openslo.describe, openslo_alpha.parse),
    openslo_v2alpha.API_VERSION: (openslo_v2alpha.describe, openslo_v2alpha.parse),
    sloth.K8S_API_VERSION: (sloth.describe, sloth.parse_kubernetes),
    pyrra.API_VERSION: (pyrra.describe, pyrra.parse),
}
ACCEPTED = (
    f"apiVersion: {openslo.API_VERSION} or {openslo_alpha.API_VERSION} (OpenSLO; "
    f"{openslo_v2alpha.API_VERSION} for BudgetAdjustment), version: "
    f"{sloth.VERSION} or apiVersion: {sloth.K8S_API_VERSION} (Sloth), apiVersion: "
    f"{pyrra.API_VERSION} (Pyrra)"
)


def _format(document) -> tuple[Callable[[dict], str], Callable[..., list[Planned]]] | None:
    if not isinstance(document, dict):
        return None
    if document.get("version") == sloth.VERSION and "apiVersion" not in document:
        return sloth.describe, sloth.parse
    return FORMATS.get(document.get("apiVersion"))


def _describe(document) -> str:
    if not isinstance(document, dict):
        return ""
    found = _format(document)
    return (found[0] if found else openslo.describe)(document)


def _parse(document, sloth_period: str | None) -> list[Planned]:
    if not isinstance(document, dict):
        raise Refused("(document)", "expected a mapping")
    found = _format(document)
    if found is None:
        given = document.get("apiVersion") or document.get("version")
        raise Refused("apiVersion", f"{given!r} is not supported: use {ACCEPTED}")
    _, parse = found
    if parse in (sloth.parse, sloth.parse_kubernetes):
        return parse(Node(document), sloth_period)
    return parse(Node(document))


def _unlisted(documents: list) -> list:
    """The items of Kubernetes lists (kubectl get -o yaml writes kind: List) in their place."""
    found = []
    for document in documents:
        kind = document.get("kind") if isinstance(document, dict) else None
        if (
            isinstance(kind, str)
            and kind.endswith("List")
            and isinstance(document.get("items"), list)
        ):
            found.extend(document["items"])
        else:
            found.append(document)
    return found


def plan_text(text: str, name: str, *, sloth_period: str | None = None) -> list[Planned]:
    """Every object of a file's text, inline ones before their parents; a bad document refuses
    all. `name` (the file's) is used in messages; `sloth_period` is the window of Sloth SLOs
    (Sloth files do not say it)."""
    planned: list[Planned] = []
    seen: dict[tuple[str, str], Planned] = {}
    for number, document in enumerate(_unlisted(load_documents(text, name)), 1):
        description = _describe(document)
        label = f"document {number}" + (f" ({description})" if description else "")
        try:
            items = _parse(document, sloth_period)
        except Refused as exc:
            raise ImportRefused(name, label, exc.field, exc.message) from None
        for item in items:
            item.document = label
            earlier = seen.get((item.kind, item.name))
            if earlier is None:
                seen[item.kind, item.name] = item
                planned.append(item)
            elif (earlier.fields, earlier.refs, earlier.many) != (
                item.fields,
                item.refs,
                item.many,
            ):
                raise ImportRefused(
                    name,
                    label,
                    "metadata.name",
                    f"{item.kind} {item.name!r} is already defined differently by "
                    f"{earlier.document}",
                )
    return planned


def plan_file(path: Path, *, sloth_period: str | None = None) -> list[Planned]:
    return plan_text(read_text(path), str(path), sloth_period=sloth_period)
