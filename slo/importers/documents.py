"""Reading SLO documents: YAML files, field paths for error messages, and the import plan.

The parsers turn each document into `Planned` objects — model field values plus references by
name — without touching the database; `slo.services.slo_import_file` resolves the references and
upserts the objects in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from core import strict_yaml


class Refused(Exception):
    """A field of the current document is wrong; `field` is its path, like spec.service."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


class ImportRefused(Exception):
    """A file is refused as a whole; the message names the file, the document and the field."""

    def __init__(self, file: str, document: str, field: str, message: str):
        self.file, self.document, self.field, self.message = file, document, field, message
        where = ": ".join(part for part in (file, document, field) if part)
        super().__init__(f"{where}: {message}")


class Node:
    """A mapping inside a document that knows its path, for precise error messages."""

    def __init__(self, data: Any, path: str = ""):
        if not isinstance(data, dict):
            raise Refused(path or "(document)", f"expected a mapping, got {_kind(data)}")
        self.data = data
        self.path = path

    def at(self, key: str | int) -> str:
        if isinstance(key, int):
            return f"{self.path}[{key}]"
        return f"{self.path}.{key}" if self.path else key

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def value(self, key: str, kind: type | tuple = str, required: bool = True, default=None):
        value = self.data.get(key)
        if value is None:
            if required:
                raise Refused(self.at(key), "is required")
            return default
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind in (int, float) and isinstance(value, bool)):
            names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
            raise Refused(self.at(key), f"expected {_NAMES.get(names, names)}, got {_kind(value)}")
        if isinstance(value, str):
            value = value.strip()
            if required and not value:
                raise Refused(self.at(key), "is empty")
        return value

    def node(self, key: str, required: bool = True) -> Node | None:
        if not self.has(key):
            if required:
                raise Refused(self.at(key), "is required")
            return None
        return Node(self.data[key], self.at(key))

    def nodes(self, key: str, required: bool = True) -> list[Node]:
        items = self.data.get(key)
        if items is None:
            if required:
                raise Refused(self.at(key), "is required")
            return []
        if not isinstance(items, list):
            raise Refused(self.at(key), f"expected a list, got {_kind(items)}")
        return [Node(item, f"{self.at(key)}[{i}]") for i, item in enumerate(items)]


_NAMES = {"str": "text", "float": "a number", "int": "a whole number", "bool": "true or false"}


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    return {dict: "a mapping", list: "a list", str: "text", bool: "true/false"}.get(
        type(value), type(value).__name__
    )


@dataclass(frozen=True)
class Ref:
    """A reference by name to an object of `kind`, made at `path` of the document."""

    kind: str
    name: str
    path: str
    create: bool = False  # a missing Service is created, owned by the referring SLO's team


@dataclass
class Planned:
    """One object to upsert: model field values, references by name, and where each came from."""

    kind: str
    name: str
    document: str
    fields: dict[str, Any] = field(default_factory=dict)
    refs: dict[str, Ref] = field(default_factory=dict)
    many: dict[str, list[Ref]] = field(default_factory=dict)
    paths: dict[str, str] = field(default_factory=dict)
    team_names: list[str] = field(default_factory=list)
    team_path: str = "metadata.labels.team"
    source_kind: str = "prometheus"

    def path_of(self, field_name: str) -> str:
        return self.paths.get(field_name, field_name)


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportRefused(str(path), "", "", f"cannot be read: {exc}") from None


def load_documents(text: str, name: str) -> list[Any]:
    """Every YAML document of a text; a top-level list counts as one document per item."""
    try:
        loaded = strict_yaml.load_all(text)
    except yaml.YAMLError as exc:
        raise ImportRefused(name, "", "", f"is not valid YAML: {exc}") from None
    documents = []
    for item in loaded:
        if item is None:
            continue
        documents.extend(item if isinstance(item, list) else [item])
    if not documents:
        raise ImportRefused(name, "", "", "holds no documents")
    return documents


def labels_of(node: Node) -> dict:
    """OpenSLO labels: each value a string or a list of strings."""
    labels = node.data.get("labels") or {}
    if not isinstance(labels, dict):
        raise Refused(node.at("labels"), "expected a mapping of names to values")
    for key, value in labels.items():
        values = value if isinstance(value, list) else [value]
        if not all(isinstance(v, str | int | float) and not isinstance(v, bool) for v in values):
            raise Refused(f"{node.at('labels')}.{key}", "a label is text or a list of texts")
    return {
        str(k): ([str(x) for x in v] if isinstance(v, list) else str(v)) for k, v in labels.items()
    }


def team_candidates(labels: dict, *keys: str) -> list[str]:
    names = []
    for key in keys:
        value = labels.get(key)
        names.extend(value if isinstance(value, list) else [value] if value else [])
    return names
