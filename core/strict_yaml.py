"""YAML as SSOps reads definition files (catalog templates, policies and runbooks; OpenSLO and
Sloth files): safe types only, and two things PyYAML lets through refused — a key given twice in
one mapping (a reviewer reads one value, PyYAML keeps the other) and a NUL character (written
"\\0" in a double-quoted string; no database column can hold it). No Django imports."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import yaml
from yaml.constructor import ConstructorError


class StrictLoader(yaml.SafeLoader):
    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen = set()
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue  # `<<: *anchor` merges; SafeLoader flattens it
                key = self.construct_object(key_node, deep=deep)
                if not isinstance(key, Hashable):
                    continue  # SafeLoader refuses it with its own message
                if key in seen:
                    raise ConstructorError(
                        "while reading a mapping",
                        node.start_mark,
                        f"the key {key!r} is given twice",
                        key_node.start_mark,
                    )
                seen.add(key)
        return super().construct_mapping(node, deep=deep)

    def construct_scalar(self, node):
        value = super().construct_scalar(node)
        if isinstance(value, str) and "\x00" in value:
            raise ConstructorError(
                None, None, "a NUL character (\\0) is not allowed", node.start_mark
            )
        return value


def load(text: str) -> Any:
    return yaml.load(text, Loader=StrictLoader)  # noqa: S506 - a SafeLoader subclass


def load_all(text: str) -> list[Any]:
    return list(yaml.load_all(text, Loader=StrictLoader))  # noqa: S506 - a SafeLoader subclass
