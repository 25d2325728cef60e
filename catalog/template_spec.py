"""Template documents: parse, lint and normalise the YAML of a catalog template.

The format follows Backstage's `scaffolder.backstage.io/v1beta3` (metadata; spec.owner;
spec.parameters as JSON Schema; spec.steps naming actions with an input; spec.output) with
SSOps's own fields (version, riskTier, ttl, cost, approvals, resources). No Django imports:
`catalog.services.templates` stores what this module accepts.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import semver
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from catalog.actions import action_get
from catalog.lifecycle import APPROVALS_BY_TIER, TIERS

API_VERSION = "catalog.ssops.dev/v1"
SLUG_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
DURATION_RE = re.compile(r"^\s*(\d+)\s*([hdw])\s*$")
EXPRESSION_RE = re.compile(r"\$\{\{\s*([^}]*?)\s*\}\}")
WHOLE_EXPRESSION_RE = re.compile(r"^\s*\$\{\{\s*([^}]*?)\s*\}\}\s*$")
HOURS_PER_UNIT = {"h": 1, "d": 24, "w": 24 * 7}
FORM_TYPES = {"string", "integer", "number", "boolean"}
REQUEST_FIELDS = {"uuid", "team", "requester", "ttl_hours", "expires_at"}
RESOURCE_FIELDS = ("count", "cpu_millicores", "memory_mib", "storage_gib")
DEFAULT_APPROVAL_TIMEOUT = "72h"
# The fields a definition may have: a misspelt one is refused, not silently ignored.
DOCUMENT_KEYS = ("apiVersion", "kind", "metadata", "spec")
METADATA_KEYS = ("name", "title", "description", "tags")
TEMPLATE_SPEC_KEYS = (
    "owner",
    "version",
    "riskTier",
    "ttl",
    "cost",
    "approvals",
    "resources",
    "parameters",
    "steps",
    "output",
    "target",
)
TARGET_KEYS = ("service", "environment")
# Limits of what SSOps stores (the model fields), checked here so that a file that would not
# fit is refused with its field named rather than failing in the database.
MAX_TITLE, MAX_OWNER, MAX_TAGS, MAX_VERSION = 200, 100, 500, 64
MAX_DURATION_HOURS = 10 * 366 * 24
MAX_AMOUNT = 2_147_483_647
MAX_COST = Decimal(10) ** 10


@dataclass(frozen=True)
class LintError:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


@dataclass(frozen=True)
class TemplateSpec:
    name: str
    title: str
    description: str
    tags: tuple[str, ...]
    owner: str
    version: str
    risk_tier: str
    default_ttl_hours: int
    max_ttl_hours: int
    approval_timeout_hours: int
    required_approvals: int
    cost_monthly: Decimal
    currency: str
    resources: dict
    parameters: dict
    steps: list
    output: dict
    document: dict
    digest: str
    # What a request changes: the service (a name, or ${{ parameters.NAME }}) and the parameter
    # that holds its environment; {} when the template names no service (docs/catalog.md).
    target: dict = field(default_factory=dict)


def document_digest(document: dict) -> str:
    """SHA-256 of the canonical JSON of a parsed document (comments and layout do not count)."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def parse_duration_hours(text: Any) -> int:
    """'12h', '7d' or '2w' in hours; anything else raises ValueError."""
    match = DURATION_RE.match(str(text))
    if not match:
        raise ValueError(f"{text!r} is not a duration such as 12h, 7d or 2w")
    hours = int(match.group(1)) * HOURS_PER_UNIT[match.group(2)]
    if hours > MAX_DURATION_HOURS:
        raise ValueError(f"{text!r} is longer than {MAX_DURATION_HOURS}h (ten years)")
    return hours


def expressions_in(value: Any) -> list[str]:
    """Every `${{ … }}` expression inside a value (strings, lists and mappings)."""
    if isinstance(value, str):
        return EXPRESSION_RE.findall(value)
    if isinstance(value, dict):
        return [expr for item in value.values() for expr in expressions_in(item)]
    if isinstance(value, list):
        return [expr for item in value for expr in expressions_in(item)]
    return []


def _lookup(context: dict, expression: str) -> Any:
    value: Any = context
    for part in expression.split("."):
        if not isinstance(value, dict) or part not in value:
            raise KeyError(expression)
        value = value[part]
    return value


def render(value: Any, context: dict) -> Any:
    """Resolve expressions: a string that is one whole expression keeps the value's type;
    expressions inside longer strings are substituted as text."""
    if isinstance(value, str):
        whole = WHOLE_EXPRESSION_RE.match(value)
        if whole:
            return _lookup(context, whole.group(1))
        return EXPRESSION_RE.sub(lambda m: str(_lookup(context, m.group(1))), value)
    if isinstance(value, dict):
        return {key: render(item, context) for key, item in value.items()}
    if isinstance(value, list):
        return [render(item, context) for item in value]
    return value


def parameters_with_defaults(schema: dict, parameters: dict) -> dict:
    values = {
        name: prop["default"]
        for name, prop in schema.get("properties", {}).items()
        if "default" in prop
    }
    values.update(parameters)
    return values


def resources_for(resources: dict, schema: dict, parameters: dict) -> dict:
    """The amounts one request of this template reserves, with parameters filled in."""
    context = {"parameters": parameters_with_defaults(schema, parameters)}
    amounts = {"kind": resources["kind"]}
    for key in RESOURCE_FIELDS:
        try:
            amounts[key] = max(0, int(render(resources.get(key, 0), context) or 0))
        except (KeyError, TypeError, ValueError):
            amounts[key] = 0
    return amounts


class Linter:
    """Collects every problem of one document, each with the path of the field at fault."""

    def __init__(self, document: Any):
        self.document = document
        self.errors: list[LintError] = []

    def error(self, path: str, message: str) -> None:
        self.errors.append(LintError(path, message))

    def mapping(self, value: Any, path: str) -> dict:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.error(path, "must be a mapping")
            return {}
        return value

    def text(self, mapping: dict, key: str, path: str, *, required: bool = True) -> str:
        value = mapping.get(key)
        if value is None or value == "":
            if required:
                self.error(f"{path}.{key}", "is required")
            return ""
        if not isinstance(value, str):
            self.error(f"{path}.{key}", "must be a string")
            return ""
        return value.strip()

    def duration(self, value: Any, path: str, default: str | None = None) -> int:
        if value is None and default is not None:
            value = default
        try:
            return parse_duration_hours(value)
        except ValueError as exc:
            self.error(path, str(exc))
            return 0

    def known(self, mapping: dict, path: str, keys: tuple[str, ...]) -> None:
        """A misspelt key is an error, not a silently ignored one."""
        unknown = sorted(str(key) for key in mapping if key not in keys)
        if unknown:
            where = f"{path}." if path else ""
            self.error(
                f"{where}{unknown[0]}",
                f"unknown field{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} "
                f"(known: {', '.join(keys)})",
            )

    def longest(self, mapping: dict, key: str, path: str, limit: int) -> None:
        value = mapping.get(key)
        if isinstance(value, str) and len(value.strip()) > limit:
            self.error(f"{path}.{key}", f"is {len(value.strip())} characters long; at most {limit}")

    def header(self, kind: str, spec_keys: tuple[str, ...]) -> tuple[dict, dict]:
        doc = self.mapping(self.document, "")
        self.known(doc, "", DOCUMENT_KEYS)
        if doc.get("apiVersion") != API_VERSION:
            self.error("apiVersion", f"must be {API_VERSION}")
        if doc.get("kind") != kind:
            self.error("kind", f"must be {kind}")
        metadata = self.mapping(doc.get("metadata"), "metadata")
        self.known(metadata, "metadata", METADATA_KEYS)
        name = self.text(metadata, "name", "metadata")
        if name and not SLUG_RE.match(name):
            self.error("metadata.name", "use lower-case letters, digits and hyphens (at most 63)")
        self.longest(metadata, "title", "metadata", MAX_TITLE)
        spec = self.mapping(doc.get("spec"), "spec")
        self.known(spec, "spec", spec_keys)
        self.longest(spec, "owner", "spec", MAX_OWNER)
        self.longest(spec, "version", "spec", MAX_VERSION)
        return metadata, spec


def lint_template(document: Any) -> tuple[TemplateSpec | None, list[LintError]]:
    """Check a parsed template document; return the normalised spec, or None and the errors."""
    lint = Linter(document)
    metadata, spec = lint.header("Template", TEMPLATE_SPEC_KEYS)
    tags = metadata.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, str) and SLUG_RE.match(t) for t in tags):
        lint.error("metadata.tags", "must be a list of lower-case words (letters, digits, -)")
        tags = []
    elif len(" ".join(sorted(set(tags)))) + 2 > MAX_TAGS:
        lint.error("metadata.tags", f"too many: at most {MAX_TAGS} characters in all")
    version = lint.text(spec, "version", "spec")
    if version and not semver.Version.is_valid(version):
        lint.error("spec.version", f"{version!r} is not a semantic version such as 1.2.0")
    risk_tier = spec.get("riskTier")
    if risk_tier not in TIERS:
        lint.error("spec.riskTier", f"must be one of {', '.join(TIERS)}")
        risk_tier = TIERS[-1]
    ttl = lint.mapping(spec.get("ttl"), "spec.ttl")
    default_ttl = lint.duration(ttl.get("default"), "spec.ttl.default")
    max_ttl = lint.duration(ttl.get("maximum"), "spec.ttl.maximum")
    if default_ttl and max_ttl and default_ttl > max_ttl:
        lint.error("spec.ttl.default", "must not be longer than spec.ttl.maximum")
    cost = lint.mapping(spec.get("cost"), "spec.cost")
    cost_monthly = _cost(lint, cost)
    currency = str(cost.get("currency", "EUR"))
    if not re.fullmatch(r"[A-Z]{3}", currency):
        lint.error("spec.cost.currency", "must be a three-letter ISO 4217 code such as EUR")
    approvals = lint.mapping(spec.get("approvals"), "spec.approvals")
    required = approvals.get("required", APPROVALS_BY_TIER[risk_tier])
    if not isinstance(required, int) or isinstance(required, bool) or not 0 <= required <= 2:
        lint.error("spec.approvals.required", "must be a whole number from 0 to 2")
        required = 0
    elif required < APPROVALS_BY_TIER[risk_tier]:
        lint.error(
            "spec.approvals.required",
            f"a {risk_tier}-risk template needs at least {APPROVALS_BY_TIER[risk_tier]}",
        )
    timeout = lint.duration(
        approvals.get("timeout"), "spec.approvals.timeout", DEFAULT_APPROVAL_TIMEOUT
    )
    parameters = _lint_parameters(lint, spec.get("parameters"))
    properties = parameters.get("properties", {})
    resources = _lint_resources(lint, spec.get("resources"), metadata.get("name", ""), properties)
    steps = _lint_steps(lint, spec.get("steps"), properties)
    output = lint.mapping(spec.get("output"), "spec.output")
    step_outputs = {step.get("id"): _outputs_of(step) for step in steps if isinstance(step, dict)}
    for expression in expressions_in(output):
        _check_reference(lint, "spec.output", expression, properties, step_outputs)
    target = _lint_target(lint, spec.get("target"), properties)
    if lint.errors:
        return None, lint.errors
    return (
        TemplateSpec(
            name=metadata["name"],
            title=lint.text(metadata, "title", "metadata", required=False) or metadata["name"],
            description=lint.text(metadata, "description", "metadata", required=False),
            tags=tuple(sorted(set(tags))),
            owner=lint.text(spec, "owner", "spec"),
            version=version,
            risk_tier=risk_tier,
            default_ttl_hours=default_ttl,
            max_ttl_hours=max_ttl,
            approval_timeout_hours=timeout,
            required_approvals=required,
            cost_monthly=cost_monthly,
            currency=currency,
            resources=resources,
            parameters=parameters,
            steps=steps,
            output=output,
            document=document,
            digest=document_digest(document),
            target=target,
        ),
        [],
    )


def _lint_target(lint: Linter, target: Any, properties: dict) -> dict:
    """spec.target: `service` — a service name, or ${{ parameters.NAME }} naming a string
    parameter — and optionally `environment`, the name of the parameter that holds the
    environment (the freeze policy reads both)."""
    if target is None:
        return {}
    target = lint.mapping(target, "spec.target")
    lint.known(target, "spec.target", TARGET_KEYS)
    service = target.get("service")
    if not isinstance(service, str) or not service.strip():
        lint.error("spec.target.service", "name the service, or ${{ parameters.NAME }}")
    else:
        whole = WHOLE_EXPRESSION_RE.match(service)
        if whole:
            ref = whole.group(1).split(".")
            if len(ref) != 2 or ref[0] != "parameters" or ref[1] not in properties:
                lint.error("spec.target.service", "must be a name or ${{ parameters.NAME }}")
            elif properties[ref[1]].get("type") != "string":
                lint.error("spec.target.service", f"parameter {ref[1]!r} is not text")
        elif expressions_in(service) or not SLUG_RE.match(service.strip()):
            lint.error(
                "spec.target.service",
                "a service name (lower-case letters, digits, hyphens) or ${{ parameters.NAME }}",
            )
    environment = target.get("environment")
    if environment is not None:
        if not isinstance(environment, str) or environment not in properties:
            lint.error("spec.target.environment", "name the parameter that holds the environment")
        elif properties[environment].get("type") != "string":
            lint.error("spec.target.environment", f"parameter {environment!r} is not text")
    return {key: target[key] for key in TARGET_KEYS if key in target}


def target_of(target: dict, parameters: dict, schema: dict) -> tuple[str, str]:
    """(service, environment) of one request, its parameters filled in ("" when unknown)."""
    if not target:
        return "", ""
    values = parameters_with_defaults(schema, parameters)
    try:
        service = str(render(target["service"], {"parameters": values}) or "")
    except KeyError:
        service = ""
    environment = values.get(target.get("environment", ""), "") if target.get("environment") else ""
    return service.strip(), str(environment or "")


def _cost(lint: Linter, cost: dict) -> Decimal:
    try:
        value = Decimal(str(cost.get("monthly", 0)))
    except InvalidOperation:
        value = Decimal(-1)
    if not value.is_finite() or value < 0:
        lint.error("spec.cost.monthly", "must be a number of zero or more")
        return Decimal(0)
    if value >= MAX_COST:
        lint.error("spec.cost.monthly", f"must be less than {MAX_COST:,}")
        return Decimal(0)
    return value.quantize(Decimal("0.01"))


def _lint_parameters(lint: Linter, schema: Any) -> dict:
    schema = lint.mapping(schema, "spec.parameters")
    if schema.get("type") != "object":
        lint.error("spec.parameters.type", "must be object (one JSON Schema for all parameters)")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = ".".join(str(p) for p in exc.absolute_path)
        lint.error(f"spec.parameters.{where}".rstrip("."), f"not valid JSON Schema: {exc.message}")
        return schema
    for name, prop in lint.mapping(schema.get("properties"), "spec.parameters.properties").items():
        path = f"spec.parameters.properties.{name}"
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,62}", str(name)):
            lint.error(path, "parameter names use lower-case letters, digits and _")
        prop = lint.mapping(prop, path)
        kind = prop.get("type")
        items = prop.get("items") if isinstance(prop.get("items"), dict) else {}
        if kind == "array" and not items.get("enum"):
            lint.error(f"{path}.items", "a list parameter needs items.enum (it renders as boxes)")
        elif kind != "array" and kind not in FORM_TYPES:
            lint.error(f"{path}.type", f"must be one of {', '.join(sorted(FORM_TYPES))} or array")
        if prop.get("format") == "password" or prop.get("writeOnly"):
            lint.error(path, "templates take no secrets: ask for the name of a stored secret")
    for name in schema.get("required", []):
        if name not in schema.get("properties", {}):
            lint.error("spec.parameters.required", f"{name!r} is required but not defined")
    return schema


def _lint_resources(lint: Linter, resources: Any, name: str, properties: dict) -> dict:
    resources = dict(lint.mapping(resources, "spec.resources"))
    resources.setdefault("kind", name)
    resources.setdefault("count", 1)
    if not isinstance(resources["kind"], str) or not resources["kind"]:
        lint.error("spec.resources.kind", "must name a resource kind such as postgres")
    for key in RESOURCE_FIELDS:
        value = resources.get(key, 0)
        path = f"spec.resources.{key}"
        if isinstance(value, str):
            whole = WHOLE_EXPRESSION_RE.match(value)
            ref = whole.group(1).split(".") if whole else []
            if len(ref) != 2 or ref[0] != "parameters" or ref[1] not in properties:
                lint.error(path, "must be a whole number or ${{ parameters.NAME }}")
            elif properties[ref[1]].get("type") not in {"integer", "number"}:
                lint.error(path, f"parameter {ref[1]!r} is not a number")
            elif not 0 <= _number(properties[ref[1]].get("maximum"), -1) <= MAX_AMOUNT:
                lint.error(path, f"parameter {ref[1]!r} needs a maximum (at most {MAX_AMOUNT})")
        elif not isinstance(value, int) or isinstance(value, bool) or value < 0:
            lint.error(path, "must be a whole number of zero or more")
        elif value > MAX_AMOUNT:
            lint.error(path, f"must be at most {MAX_AMOUNT}")
    unknown = set(resources) - {"kind", *RESOURCE_FIELDS}
    if unknown:
        lint.error("spec.resources", f"unknown fields: {', '.join(sorted(unknown))}")
    return resources


def _number(value: Any, default: float) -> float:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else default


def _outputs_of(step: dict) -> tuple[str, ...]:
    action = action_get(str(step.get("action", "")))
    return action.outputs if action else ()


def _check_reference(
    lint: Linter, path: str, expression: str, properties: dict, step_outputs: dict
) -> None:
    parts = expression.split(".")
    root = parts[0]
    if root == "parameters" and len(parts) == 2 and parts[1] in properties:
        return
    if root == "request" and len(parts) == 2 and parts[1] in REQUEST_FIELDS:
        return
    if root == "steps" and len(parts) == 4 and parts[2] == "output":
        if parts[1] not in step_outputs:
            lint.error(path, f"${{{{ {expression} }}}} names no earlier step {parts[1]!r}")
        elif parts[3] not in step_outputs[parts[1]]:
            outputs = ", ".join(step_outputs[parts[1]]) or "none"
            lint.error(path, f"step {parts[1]!r} has no output {parts[3]!r} (it has {outputs})")
        return
    lint.error(
        path,
        f"${{{{ {expression} }}}} is not parameters.NAME, request.FIELD or steps.ID.output.NAME",
    )


def _lint_steps(lint: Linter, steps: Any, properties: dict) -> list:
    if not isinstance(steps, list) or not steps:
        lint.error("spec.steps", "must be a non-empty list")
        return []
    earlier: dict[str, tuple[str, ...]] = {}
    for index, step in enumerate(steps):
        path = f"spec.steps[{index}]"
        step = lint.mapping(step, path)
        step_id = lint.text(step, "id", path)
        if step_id and not SLUG_RE.match(step_id):
            lint.error(f"{path}.id", "use lower-case letters, digits and hyphens")
        if step_id in earlier:
            lint.error(f"{path}.id", f"{step_id!r} is used by an earlier step")
        action_name = lint.text(step, "action", path)
        action = action_get(action_name) if action_name else None
        if action_name and action is None:
            lint.error(f"{path}.action", f"unknown action {action_name!r}")
        step_input = lint.mapping(step.get("input"), f"{path}.input")
        for expression in expressions_in(step_input):
            _check_reference(lint, f"{path}.input", expression, properties, earlier)
        if action is not None:
            _lint_step_input(lint, f"{path}.input", action.input_schema, step_input)
        earlier[step_id] = action.outputs if action else ()
    return steps


def _lint_step_input(lint: Linter, path: str, schema: dict, step_input: dict) -> None:
    """Literal values are checked now; values holding expressions are checked when they run."""
    for error in Draft202012Validator(schema).iter_errors(step_input):
        if error.validator not in {"required", "additionalProperties"} and expressions_in(
            error.instance
        ):
            continue
        where = ".".join(str(part) for part in error.absolute_path)
        lint.error(f"{path}.{where}".rstrip("."), error.message)
