"""Linting template documents: every problem named with the field at fault."""

import pytest
import yaml

from catalog import actions
from catalog.actions import action_get, implementation_for, register_implementation
from catalog.template_spec import lint_template, parse_duration_hours, render, resources_for
from tests.catalog.conftest import TEMPLATES, template_document


@pytest.mark.parametrize("path", sorted(TEMPLATES.glob("*.yaml")), ids=lambda p: p.name)
def test_the_shipped_templates_are_valid(path):
    spec, errors = lint_template(yaml.safe_load(path.read_text()))
    assert errors == []
    assert spec.steps and spec.parameters["type"] == "object"


def test_a_valid_document_is_normalised():
    spec, errors = lint_template(template_document("widget"))
    assert errors == []
    assert (spec.name, spec.version, spec.risk_tier) == ("widget", "1.0.0", "low")
    assert (spec.default_ttl_hours, spec.max_ttl_hours, spec.approval_timeout_hours) == (
        24,
        168,
        24,
    )
    assert str(spec.cost_monthly) == "73.00" and len(spec.digest) == 64


def errors_of(document) -> list[str]:
    spec, errors = lint_template(document)
    assert spec is None
    return [str(error) for error in errors]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"version": "1.0"}, "spec.version: '1.0' is not a semantic version"),
        ({"riskTier": "extreme"}, "spec.riskTier: must be one of low, medium, high"),
        ({"ttl": {"default": "9d", "maximum": "7d"}}, "spec.ttl.default: must not be longer"),
        ({"ttl": {"default": "1 day", "maximum": "7d"}}, "spec.ttl.default: '1 day' is not a"),
        ({"cost": {"monthly": -1}}, "spec.cost.monthly: must be a number of zero or more"),
        (
            {"riskTier": "high", "approvals": {"required": 1}},
            "spec.approvals.required: a high-risk template needs at least 2",
        ),
        (
            {"steps": [{"id": "x", "action": "terraform.apply", "input": {}}]},
            "spec.steps[0].action: unknown action 'terraform.apply'",
        ),
        (
            {"steps": [{"id": "x", "action": "kubernetes.namespace", "input": {"nom": "a"}}]},
            "spec.steps[0].input: 'name' is a required property",
        ),
        (
            {
                "steps": [
                    {"id": "x", "action": "kubernetes.namespace", "input": {"name": "Not A Name"}}
                ]
            },
            "spec.steps[0].input.name: 'Not A Name' does not match",
        ),
        (
            {
                "steps": [
                    {
                        "id": "x",
                        "action": "kubernetes.namespace",
                        "input": {"name": "${{ parameters.missing }}"},
                    }
                ]
            },
            "spec.steps[0].input: ${{ parameters.missing }} is not parameters.NAME",
        ),
        (
            {"output": {"values": {"db": "${{ steps.ns.output.password }}"}}},
            "spec.output: step 'ns' has no output 'password'",
        ),
        (
            {"output": {"values": {"db": "${{ steps.later.output.host }}"}}},
            "spec.output: ${{ steps.later.output.host }} names no earlier step 'later'",
        ),
        ({"resources": {"kind": "w", "cpu_millicores": "lots"}}, "spec.resources.cpu_millicores"),
        ({"steps": []}, "spec.steps: must be a non-empty list"),
    ],
)
def test_each_problem_names_its_field(changes, expected):
    messages = errors_of(template_document("widget", **changes))
    assert any(expected in message for message in messages), messages


def test_parameters_must_be_json_schema_and_never_secrets():
    document = template_document("widget")
    props = document["spec"]["parameters"]["properties"]
    props["password"] = {"type": "string", "format": "password"}
    props["size"] = {"type": "strin"}
    messages = errors_of(document)
    assert any("spec.parameters" in m and "not valid JSON Schema" in m for m in messages)
    document["spec"]["parameters"]["properties"]["size"] = {"type": "string"}
    messages = errors_of(document)
    assert messages == [
        "spec.parameters.properties.password: templates take no secrets: "
        "ask for the name of a stored secret"
    ]


def test_the_header_is_checked():
    messages = errors_of({"apiVersion": "v0", "kind": "Thing", "metadata": {"name": "Bad Name"}})
    assert "apiVersion: must be catalog.ssops.dev/v1" in messages
    assert "kind: must be Template" in messages
    assert any(m.startswith("metadata.name: use lower-case") for m in messages)


def test_durations_are_hours_days_or_weeks():
    assert [parse_duration_hours(t) for t in ("12h", "7d", "2w")] == [12, 168, 336]
    with pytest.raises(ValueError):
        parse_duration_hours("30m")


def test_render_keeps_types_of_whole_expressions_and_substitutes_inside_text():
    context = {"parameters": {"size": 3, "name": "db"}, "request": {"ttl_hours": 4}}
    assert render("${{ parameters.size }}", context) == 3
    assert render(
        {"d": "${{ request.ttl_hours }}h", "n": ["x-${{ parameters.name }}"]}, context
    ) == {
        "d": "4h",
        "n": ["x-db"],
    }


def test_resources_take_parameters_and_their_defaults():
    spec, _ = lint_template(template_document("widget"))
    assert resources_for(spec.resources, spec.parameters, {"name": "a", "cpu": 1500}) == {
        "kind": "widget",
        "count": 1,
        "cpu_millicores": 1500,
        "memory_mib": 0,
        "storage_gib": 0,
    }
    assert resources_for(spec.resources, spec.parameters, {"name": "a"})["cpu_millicores"] == 500


def test_the_action_registry_is_the_seam_for_the_provisioner(monkeypatch):
    monkeypatch.setattr(actions, "_IMPLEMENTATIONS", {})
    assert action_get("runbook.restart-deployment").name == "runbook.*"
    assert action_get("postgres.database").outputs == (
        "host",
        "port",
        "database",
        "credentials_ref",
    )
    assert action_get("nope") is None and implementation_for("postgres.database") is None
    register_implementation("runbook.*", print)
    assert implementation_for("runbook.flush-cache") is print
    with pytest.raises(KeyError):
        register_implementation("terraform.apply", print)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ({"service": "${{ parameters.nope }}"}, "spec.target.service: must be a name or"),
        ({"service": "${{ parameters.cpu }}"}, "spec.target.service: parameter 'cpu' is not text"),
        ({"service": "Not A Name"}, "spec.target.service: a service name"),
        ({"service": "svc-${{ parameters.name }}"}, "spec.target.service: a service name"),
        ({"environment": "name"}, "spec.target.service: name the service"),
        ({"service": "checkout", "environment": "stage"}, "spec.target.environment: name the"),
        ({"service": "checkout", "environment": "cpu"}, "spec.target.environment: parameter"),
        ({"service": "checkout", "envirnoment": "name"}, "spec.target.envirnoment: unknown field"),
    ],
)
def test_a_target_names_a_service_and_the_parameter_of_its_environment(target, expected):
    found = errors_of(template_document("widget", target=target))
    assert any(error.startswith(expected) for error in found), found


def test_a_request_changes_the_service_its_parameters_name():
    from catalog.template_spec import target_of

    spec, errors = lint_template(
        template_document("widget", target={"service": "${{ parameters.name }}"})
    )
    assert errors == [] and spec.target == {"service": "${{ parameters.name }}"}
    schema = spec.parameters
    assert target_of(spec.target, {"name": "checkout"}, schema) == ("checkout", "")
    fixed = {"service": "checkout", "environment": "name"}
    assert target_of(fixed, {"name": "prod"}, schema) == ("checkout", "prod")
    assert target_of({}, {"name": "checkout"}, schema) == ("", "")
    assert lint_template(template_document("widget"))[0].target == {}  # templates without one
