"""`slo_import`: OpenSLO v1 and Sloth prometheus/v1 files → an import plan (see documents.py)."""

from __future__ import annotations

from pathlib import Path

from slo.importers import openslo, sloth
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


def _describe(document) -> str:
    if not isinstance(document, dict):
        return ""
    if document.get("version") == sloth.VERSION:
        return sloth.describe(document)
    return openslo.describe(document)


def _parse(document) -> list[Planned]:
    if not isinstance(document, dict):
        raise Refused("(document)", "expected a mapping")
    if document.get("apiVersion") == openslo.API_VERSION:
        return openslo.parse(Node(document))
    if document.get("version") == sloth.VERSION:
        return sloth.parse(Node(document))
    found = document.get("apiVersion") or document.get("version")
    raise Refused(
        "apiVersion",
        f"{found!r} is not supported: use apiVersion: {openslo.API_VERSION} (OpenSLO) or "
        f"version: {sloth.VERSION} (Sloth)",
    )


def plan_text(text: str, name: str) -> list[Planned]:
    """Every object of a file's text, inline ones before their parents; a bad document refuses
    all. `name` (the file's) is used in messages."""
    planned: list[Planned] = []
    seen: dict[tuple[str, str], Planned] = {}
    for number, document in enumerate(load_documents(text, name), 1):
        description = _describe(document)
        label = f"document {number}" + (f" ({description})" if description else "")
        try:
            items = _parse(document)
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


def plan_file(path: Path) -> list[Planned]:
    return plan_text(read_text(path), str(path))
