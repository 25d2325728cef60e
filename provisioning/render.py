"""Step inputs and run outputs with their `${{ … }}` expressions resolved (no Django imports).

The context has `parameters` (defaults filled in; an optional parameter the request left out
is None, and an input key holding only that is dropped), `request` (uuid, team, requester,
ttl_hours, expires_at) and `steps.<id>.output` of the steps that already succeeded.
"""

from __future__ import annotations

from typing import Any

from catalog.template_spec import parameters_with_defaults, render
from provisioning.base import PermanentError


def context_for(*, schema: dict, parameters: dict, request: dict, outputs: dict[str, dict]) -> dict:
    values = dict.fromkeys(schema.get("properties", {}))
    values.update(parameters_with_defaults(schema, parameters))
    return {
        "parameters": values,
        "request": request,
        "steps": {step_id: {"output": output} for step_id, output in outputs.items()},
    }


def _dropping_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _dropping_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_dropping_none(item) for item in value if item is not None]
    return value


def rendered(value: Any, context: dict, what: str) -> Any:
    """`value` with its expressions resolved; PermanentError naming what is missing."""
    try:
        return _dropping_none(render(value, context))
    except KeyError as exc:
        raise PermanentError(
            f"{what} refers to {exc.args[0]!r}, which this run does not have"
        ) from None
