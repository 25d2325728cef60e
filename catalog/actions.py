"""The provisioner actions that template steps may name, with the JSON Schema of their input.

This module is the seam between the catalog and the provisioning engine: the catalog lints
template steps against these declarations; the provisioning issue plugs the real code in with
`register_implementation(name, callable)` and looks it up with `implementation_for(name)`.
A name ending in ".*" declares a family (`runbook.*` covers `runbook.restart-deployment`).
No Django imports.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

_NAME = {"type": "string", "pattern": "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"}
_DURATION = {"type": "string", "pattern": "^[0-9]+[hdw]$"}


@dataclass(frozen=True)
class Action:
    name: str
    description: str
    input_schema: dict
    outputs: tuple[str, ...] = ()
    # Whether a later failure can undo it (the provisioner compensates in reverse order).
    compensable: bool = True
    secret_outputs: tuple[str, ...] = field(default=())


def _schema(required: list[str], properties: dict) -> dict:
    return {
        "type": "object",
        "required": required,
        "properties": properties,
        "additionalProperties": False,
    }


ACTIONS: dict[str, Action] = {
    action.name: action
    for action in [
        Action(
            "postgres.database",
            "Create a PostgreSQL database and an owner role on a shared cluster.",
            _schema(
                ["name"],
                {
                    "name": _NAME,
                    "size": {"type": "string", "enum": ["small", "medium", "large"]},
                    "storage_gib": {"type": "integer", "minimum": 1, "maximum": 2048},
                    "extensions": {"type": "array", "items": {"type": "string"}},
                },
            ),
            outputs=("host", "port", "database", "credentials_ref"),
            secret_outputs=("credentials_ref",),
        ),
        Action(
            "kubernetes.namespace",
            "Create a namespace with labels and a ResourceQuota.",
            _schema(
                ["name"],
                {
                    "name": _NAME,
                    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                    "cpu_millicores": {"type": "integer", "minimum": 0},
                    "memory_mib": {"type": "integer", "minimum": 0},
                },
            ),
            outputs=("namespace", "cluster"),
        ),
        Action(
            "access.grant",
            "Grant a role on a system to a user, for a limited time.",
            _schema(
                ["subject", "system", "role", "duration"],
                {
                    "subject": {"type": "string", "minLength": 1},
                    "system": {"type": "string", "minLength": 1},
                    "role": {"type": "string", "minLength": 1},
                    "duration": _DURATION,
                },
            ),
            outputs=("grant_id", "expires_at"),
        ),
        Action(
            "webhook.post",
            "POST a JSON document to a URL and keep the response status.",
            _schema(
                ["url"],
                {
                    "url": {"type": "string", "pattern": "^https?://"},
                    "body": {"type": "object"},
                },
            ),
            outputs=("status",),
            compensable=False,
        ),
        Action(
            "runbook.*",
            "Run a named, guarded runbook against a target (for example restart-deployment).",
            _schema(
                ["target"],
                {
                    "target": {"type": "string", "minLength": 1},
                    "namespace": _NAME,
                    "args": {"type": "object"},
                    "dry_run": {"type": "boolean"},
                },
            ),
            outputs=("run_id", "log_ref"),
            compensable=False,
        ),
    ]
}

_IMPLEMENTATIONS: dict[str, Callable[..., Any]] = {}


def action_get(name: str) -> Action | None:
    """The declaration for an action name, exact first, then its family (`runbook.*`)."""
    if name in ACTIONS:
        return ACTIONS[name]
    family, _, member = name.rpartition(".")
    if family and member:
        return ACTIONS.get(f"{family}.*")
    return None


def register_implementation(name: str, implementation: Callable[..., Any]) -> None:
    """Called by the provisioning engine for each action it can carry out."""
    if action_get(name) is None:
        raise KeyError(f"no action {name!r} is declared in catalog.actions")
    _IMPLEMENTATIONS[name] = implementation


def implementation_for(name: str) -> Callable[..., Any] | None:
    if name in _IMPLEMENTATIONS:
        return _IMPLEMENTATIONS[name]
    family = name.rpartition(".")[0]
    return _IMPLEMENTATIONS.get(f"{family}.*")
