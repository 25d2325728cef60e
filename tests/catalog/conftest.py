"""Catalog fixtures: small templates at each risk tier (widget: low, gadget: medium, vault:
high), the demo definitions, and a `submit` helper."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from catalog.importer import DEFAULT_ROOT, catalog_import
from catalog.models import Policy, TemplateVersion
from catalog.services import policy_save, request_submit, template_publish
from catalog.template_spec import API_VERSION, lint_template

POLICIES = DEFAULT_ROOT / "policies"
TEMPLATES = DEFAULT_ROOT / "templates"

BASE = {
    "apiVersion": API_VERSION,
    "kind": "Template",
    "metadata": {
        "name": "widget",
        "title": "Widget",
        "description": "A test widget.",
        "tags": ["test"],
    },
    "spec": {
        "owner": "platform",
        "version": "1.0.0",
        "riskTier": "low",
        "ttl": {"default": "1d", "maximum": "7d"},
        "cost": {"monthly": 73, "currency": "EUR"},
        "approvals": {"required": 0, "timeout": "24h"},
        "resources": {"kind": "widget", "count": 1, "cpu_millicores": "${{ parameters.cpu }}"},
        "parameters": {
            "type": "object",
            "required": ["name"],
            "additionalProperties": False,
            "properties": {
                "name": {
                    "type": "string",
                    "title": "Name",
                    "pattern": "^[a-z][a-z0-9-]*$",
                    "maxLength": 30,
                },
                "cpu": {"type": "integer", "minimum": 100, "maximum": 4000, "default": 500},
            },
        },
        "steps": [
            {
                "id": "ns",
                "name": "Namespace",
                "action": "kubernetes.namespace",
                "input": {"name": "${{ parameters.name }}"},
            }
        ],
        "output": {"values": {"namespace": "${{ steps.ns.output.namespace }}"}},
    },
}


def template_document(name: str = "widget", **spec) -> dict:
    document = copy.deepcopy(BASE)
    document["metadata"]["name"] = name
    document["metadata"]["title"] = name.capitalize()
    document["metadata"]["description"] = f"A test {name}."
    document["spec"].update(spec)
    return document


def publish(document: dict, actor=None):
    spec, errors = lint_template(document)
    assert errors == [], errors
    return template_publish(actor=actor, spec=spec)[0]


@pytest.fixture
def widget(db):
    """Low risk: approved at once."""
    return publish(template_document("widget"))


@pytest.fixture
def gadget(db):
    """Medium risk: one approver."""
    return publish(
        template_document("gadget", riskTier="medium", approvals={"required": 1, "timeout": "24h"})
    )


@pytest.fixture
def vault(db):
    """High risk: two distinct approvers."""
    return publish(
        template_document("vault", riskTier="high", approvals={"required": 2, "timeout": "8h"})
    )


@pytest.fixture
def demo_templates(db):
    assert catalog_import(actor=None, paths=[TEMPLATES]).ok
    return list(TemplateVersion.objects.all())


@pytest.fixture
def demo_policies(db):
    assert catalog_import(actor=None, paths=[POLICIES]).ok
    return list(Policy.objects.all())


@pytest.fixture
def make_policy(db):
    def make(slug: str, source: str, mode: str = "enforce", examples=None):
        if "package " not in source:
            source = f"package tests.{slug.replace('-', '_')}\n\nimport rego.v1\n\n{source}\n"
        return policy_save(
            actor=None, slug=slug, title=slug, mode=mode, source=source, examples=examples or []
        )[0]

    return make


@pytest.fixture
def submit(bob, team):
    """File a request as bob for payments (override anything by keyword)."""

    def file(template="widget", *, actor=None, team_=None, **kwargs):
        kwargs.setdefault("parameters", {"name": "payments-one"})
        return request_submit(actor=actor or bob, template=template, team=team_ or team, **kwargs)

    return file


def read(path: Path) -> str:
    return path.read_text()


def assert_counters_match_reservations():
    """The usage counters equal the sums of the active reservations they count."""
    from django.db.models import Sum

    from catalog.models import DIMENSIONS, MonthlySpend, Quota, Reservation

    active = Reservation.objects.filter(state="active")
    for quota in Quota.objects.all():
        sums = active.filter(team=quota.team, kind=quota.kind).aggregate(
            **{amount: Sum(amount) for _, amount in DIMENSIONS}
        )
        assert quota.used == {k: v or 0 for k, v in sums.items()}, quota
    for spend in MonthlySpend.objects.all():
        total = active.filter(team=spend.team, period=spend.period).aggregate(t=Sum("cost"))["t"]
        assert spend.amount == round(total or 0, 2), spend
