"""Reading SLO documents: YAML files, field paths for error messages, and the import plan.

The parsers turn each document into `Planned` objects — model field values plus references by
name — without touching the database; `slo.services.slo_import_file` resolves the references and
upserts the objects in one transaction.

Nothing in a document is dropped silently: each mapping a parser reads names the fields its
format has (`Node.expect`), so an unknown field is refused with its path; and the fields of the
format that SSOps does not use are kept with the object they belong to (`settle`), so that
slo_export writes them back.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from core import strict_yaml
from slo import expressions

QUERY_FIELDS = {"numerator": "numerator_query", "total": "total_query", "ratio": "ratio_query"}


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


Keys = tuple[str | int, ...]


class _Reads:
    """Which parts of one document the parsers read whole, and which they went into."""

    def __init__(self) -> None:
        self.read: set[Keys] = set()
        self.entered: set[Keys] = set()


class Node:
    """A mapping inside a document that knows its path, for precise error messages, and
    remembers what was read of it."""

    def __init__(self, data: Any, path: str = "", keys: Keys = (), reads: _Reads | None = None):
        if not isinstance(data, dict):
            raise Refused(path or "(document)", f"expected a mapping, got {_kind(data)}")
        self.data = data
        self.path = path
        self.keys = keys
        self.reads = reads or _Reads()
        self.reads.entered.add(keys)

    def at(self, key: str | int) -> str:
        if isinstance(key, int):
            return f"{self.path}[{key}]"
        return f"{self.path}.{key}" if self.path else key

    def expect(self, what: str, *known: str) -> None:
        """Refuse a field that `what` (a part of the format) does not have."""
        for key in self.data:
            if key not in known:
                close = difflib.get_close_matches(str(key), known, n=1)
                hint = f"did you mean {close[0]}? " if close else ""
                raise Refused(
                    self.at(str(key)),
                    f"is not a field of {what} ({hint}its fields: {', '.join(known)})",
                )

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def raw(self, key: str, default: Any = None) -> Any:
        """A value as written (read whole: it is used, not kept)."""
        self.reads.read.add((*self.keys, key))
        value = self.data.get(key)
        return default if value is None else value

    def value(self, key: str, kind: type | tuple = str, required: bool = True, default=None):
        self.reads.read.add((*self.keys, key))
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
        return Node(self.data[key], self.at(key), (*self.keys, key), self.reads)

    def nodes(self, key: str, required: bool = True) -> list[Node]:
        items = self.data.get(key)
        if items is None:
            if required:
                raise Refused(self.at(key), "is required")
            return []
        if not isinstance(items, list):
            raise Refused(self.at(key), f"expected a list, got {_kind(items)}")
        self.reads.entered.add((*self.keys, key))
        return [
            Node(item, f"{self.at(key)}[{i}]", (*self.keys, key, i), self.reads)
            for i, item in enumerate(items)
        ]

    def unread(self) -> list[tuple[Keys, Any]]:
        """The fields under this node that no parser read (keys relative to the document)."""
        found: list[tuple[Keys, Any]] = []

        def visit(keys: Keys, value: Any) -> None:
            if keys in self.reads.read:
                return
            if keys not in self.reads.entered:
                found.append((keys, value))
                return
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                visit((*keys, key), item)

        visit(self.keys, self.data)
        return found


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
    # A budget adjustment's indicatorRef: the SLI (or SLO) of its service it adjusts.
    indicator_ref: str = ""
    # Values for a new object only (one already in SSOps keeps its own): what the file cannot
    # say, such as a Sloth SLO's period.
    defaults: dict[str, Any] = field(default_factory=dict)
    keys: Keys = ()  # where the object's own part of the document begins
    kept: list[list] = field(default_factory=list)  # [path, value] of fields SSOps does not use

    def path_of(self, field_name: str) -> str:
        return self.paths.get(field_name, field_name)


def sli_texts(
    planned: Planned, queries: dict[str, str], group_by: list[str], raw: bool = False
) -> None:
    """Check the SLI's queries as the model will (no Prometheus needed) and keep their texts;
    a query that is not valid PromQL, or that cannot give an SLI, is refused at its path."""
    try:
        if raw:
            found = expressions.raw_sli(queries["ratio"], group_by)
        else:
            found = expressions.ratio_sli(queries["numerator"], queries["total"], group_by)
    except expressions.SLIError as exc:
        role, message = next(iter(exc.errors.items()))
        field = QUERY_FIELDS.get(role, role)
        raise Refused(planned.path_of(field), message) from None
    for role, text in found.texts.items():
        planned.fields[QUERY_FIELDS[role]] = text


def settle(root: Node, planned: Sequence[Planned]) -> None:
    """Give each object the unread fields of its part of the document (the innermost object
    whose part holds a field keeps it), as paths relative to that part."""
    owners = sorted(planned, key=lambda item: -len(item.keys))
    for keys, value in root.unread():
        for item in owners:
            if keys[: len(item.keys)] == item.keys:
                item.kept.append([list(keys[len(item.keys) :]), value])
                break
    for item in planned:
        item.fields["kept_fields"] = item.kept


def put_kept(document: dict, kept: Sequence[Sequence], entry: int | None = None) -> dict:
    """Write kept fields back into an exported document ("*" in a path: the entry's index in
    a list of entries, such as a Sloth file's slos)."""
    for path, value in kept:
        where: Any = document
        steps = [entry if step == "*" else step for step in path]
        for step, following in zip(steps, steps[1:], strict=False):
            blank = [] if isinstance(following, int) else {}
            if isinstance(step, int):
                while len(where) <= step:
                    where.append(blank)
                    blank = [] if isinstance(following, int) else {}
                where = where[step]
            else:
                where = where.setdefault(step, blank)
        last = steps[-1]
        if isinstance(last, int):
            while len(where) <= last:
                where.append(None)
        where[last] = value
    return document


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
    labels = node.raw("labels", {})
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
