"""What every door's test needs: a snapshot of every row, and a command that must refuse."""

from __future__ import annotations

import io
from contextlib import contextmanager

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from audit.models import AuditEvent
from tests.catalog.conftest import template_document

WATCHED_APPS = ("teams", "audit", "slo", "catalog", "provisioning", "metrics")
RUNBOOK = "runbooks/flush-cache-1.0.0.yaml"
RULE = 'package bad_input\n\nimport rego.v1\n\ndeny contains "no" if input.x == 1\n'
# A template whose parameters take free text, for the doors that take parameters.
FREE = template_document(
    "free-text",
    parameters={
        "type": "object",
        "required": ["name"],
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string", "pattern": "^[a-z][a-z0-9-]*$", "maxLength": 30},
            "note": {"type": "string", "maxLength": 200},
            "cpu": {"type": "integer", "minimum": 100, "maximum": 4000, "default": 500},
        },
    },
)


def api_body(**change) -> dict:
    """A request for the free-text template through the API, with `change` applied."""
    body = {
        "template": "free-text",
        "team": "payments",
        "parameters": {"name": "fine"},
        "justification": "",
    }
    body.update(change)
    return body


def snapshot() -> dict[str, list[str]]:
    """Every row of every table of SSOps's apps (and the users)."""
    models = [m for app in WATCHED_APPS for m in apps.get_app_config(app).get_models()]
    models.append(get_user_model())
    return {m._meta.label: sorted(map(repr, m.objects.values_list())) for m in models}


@contextmanager
def changes_nothing():
    events, before = AuditEvent.objects.count(), snapshot()
    yield
    after = snapshot()
    assert AuditEvent.objects.count() == events
    assert [label for label in before if before[label] != after[label]] == []


def command_error(name: str, *args) -> str:
    """Run a management command that must refuse; its message and what it wrote to stderr."""
    err = io.StringIO()
    with pytest.raises(CommandError) as refused:
        call_command(name, *map(str, args), stdout=io.StringIO(), stderr=err)
    return f"{refused.value}\n{err.getvalue()}"
