"""Submitting a catalog request: validate (nothing is written when invalid), evaluate the
policies, reserve quota and budget under lock, then deny, wait for approval, or approve and hand
off to provisioning — in one transaction, every step audited."""

from __future__ import annotations

import datetime as dt
import re

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from jsonschema import Draft202012Validator, FormatChecker

from catalog import lifecycle
from catalog.choices import ChangeKind, RequestState, VersionStatus
from catalog.models import DIMENSIONS, PolicyDecision, Request, Template, TemplateVersion
from catalog.selectors.freezes import request_target
from catalog.services.handoff import request_start_provisioning
from catalog.services.policies import policies_active, policies_evaluate
from catalog.services.quotas import (
    Standing,
    cost_for,
    month_start,
    quota_excess,
    reservation_create,
    standing_locked,
)
from catalog.services.transitions import log_transition, request_transition
from catalog.template_spec import resources_for
from teams import permissions
from teams.models import Team

MAX_JUSTIFICATION = 2000


class RequestInvalid(Exception):
    """The submission is wrong; `errors` maps a field ("team", "ttl_hours", "parameters.NAME",
    or "parameters" for the whole set) to its messages. Nothing was written."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


_validators: dict[str, Draft202012Validator] = {}


def _schema_validator(version: TemplateVersion) -> Draft202012Validator:
    """One compiled validator per template version (a version's schema never changes)."""
    validator = _validators.get(version.digest)
    if validator is None:
        validator = Draft202012Validator(version.parameters_schema, format_checker=FormatChecker())
        _validators[version.digest] = validator
    return validator


_TYPE_WORDS = {
    "integer": "a whole number",
    "number": "a number",
    "string": "text",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping",
}


def _friendly(error, prop: dict) -> str:
    """A message a person can act on, for one JSON Schema error on one parameter."""
    value = error.validator_value
    custom = prop.get("x-error") if isinstance(prop, dict) else None
    if custom and error.validator in {"pattern", "format"}:
        return custom
    messages = {
        "required": "This field is required.",
        "type": f"Enter {_TYPE_WORDS.get(str(value), value)}.",
        "enum": "Choose one of: " + ", ".join(str(v) for v in value) + "."
        if isinstance(value, list)
        else "",
        "minLength": f"Use at least {value} characters.",
        "maxLength": f"Use at most {value} characters.",
        "minimum": f"Use {value} or more.",
        "maximum": f"Use {value} or less.",
        "exclusiveMinimum": f"Use more than {value}.",
        "exclusiveMaximum": f"Use less than {value}.",
        "pattern": f"Use the expected format ({value}).",
        "format": f"Enter a valid {value}.",
        "minItems": f"Choose at least {value}.",
        "maxItems": f"Choose at most {value}.",
        "uniqueItems": "Choose each item once.",
        "additionalProperties": error.message,
    }
    return messages.get(error.validator) or error.message


# Parameters are one-line values. Python's `$` (jsonschema's "pattern") also matches before a
# final line break, so "name\n" would pass ^[a-z-]+$: control characters are refused first.
CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def parameter_errors(version: TemplateVersion, parameters) -> dict[str, list[str]]:
    """Field errors of the parameters against the version's JSON Schema ({} when valid)."""
    if not isinstance(parameters, dict):
        return {"parameters": ["Send the parameters as a JSON object."]}
    properties = version.parameters_schema.get("properties", {})
    errors: dict[str, list[str]] = {}
    for name, value in parameters.items():
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(t, str) and CONTROL_CHARACTER.search(t) for t in texts):
            message = "Use no control characters (line breaks, tabs, NUL…)."
            errors.setdefault(f"parameters.{name}", []).append(message)
    for error in _schema_validator(version).iter_errors(parameters):
        path = list(error.absolute_path)
        if error.validator == "required":
            names = [n for n in error.validator_value if n not in (error.instance or {})]
        elif error.validator == "additionalProperties":
            names = [""]
        else:
            names = [str(path[0])] if path else [""]
        for name in names:
            key = f"parameters.{name}" if name else "parameters"
            errors.setdefault(key, []).append(_friendly(error, properties.get(name, {})))
    return errors


def _resolve_version(template, version: str | None) -> TemplateVersion:
    """The version to file against (the latest published one unless `version` names one);
    RequestInvalid when there is none or it is deprecated."""
    if isinstance(template, TemplateVersion):
        chosen = template
    else:
        slug = template.slug if isinstance(template, Template) else str(template or "")
        if version:
            chosen = (
                TemplateVersion.objects.select_related("template")
                .filter(template__slug=slug, version=version)
                .first()
            )
        else:
            found = Template.objects.select_related("latest_version").filter(slug=slug).first()
            chosen = found.latest_version if found else None
            if chosen is not None:
                chosen.template = found
        if chosen is None:
            if not Template.objects.filter(slug=slug).exists():
                raise RequestInvalid({"template": [f"There is no template {slug!r}."]})
            if version:
                raise RequestInvalid({"version": [f"{slug} has no version {version!r}."]})
            raise RequestInvalid({"template": [f"{slug} has no published version."]})
    if chosen.status == VersionStatus.DEPRECATED:
        message = f"{chosen} is deprecated: {chosen.deprecation_reason or 'use a newer one'}"
        raise RequestInvalid({"version": [message]})
    return chosen


def _resolve_team(actor, team) -> Team:
    if not isinstance(team, Team):
        found = Team.objects.select_related("budget").filter(slug=str(team or "")).first()
        if found is None:
            raise RequestInvalid({"team": [f"There is no team {team!r}."]})
        team = found
    if not permissions.can_request_for_team(actor, team.pk):
        raise PermissionDenied(f"You are not a member of team {team.slug}.")
    return team


def request_field_errors(
    version: TemplateVersion, ttl_hours, justification: str, change_kind: str = ChangeKind.NORMAL
) -> dict:
    errors: dict[str, list[str]] = {}
    if change_kind not in ChangeKind.values:
        errors["change_kind"] = [f"Choose one of: {', '.join(ChangeKind.values)}."]
    if ttl_hours is not None and (
        not isinstance(ttl_hours, int) or isinstance(ttl_hours, bool) or ttl_hours < 1
    ):
        errors["ttl_hours"] = ["Enter a whole number of hours, 1 or more."]
    elif ttl_hours is not None and ttl_hours > version.max_ttl_hours:
        errors["ttl_hours"] = [f"Use {version.max_ttl_hours} hours or less for this template."]
    if len(justification or "") > MAX_JUSTIFICATION:
        errors["justification"] = [f"Use at most {MAX_JUSTIFICATION} characters."]
    return errors


# --- policy input -----------------------------------------------------------------------------


def policy_input(
    *,
    actor,
    team: Team,
    version: TemplateVersion,
    parameters: dict,
    ttl_hours: int,
    justification: str,
    amounts: dict,
    cost,
    period: dt.date,
    standing: Standing,
    change_kind: str = ChangeKind.NORMAL,
    service: dict | None = None,
) -> dict:
    """The document every policy receives (docs/catalog.md: request, user, team, template,
    usage, service); usage is what `standing_locked` read, so policies see what the quota
    check sees. `request.risk_tier` starts at the template's and rises with what enforcing
    policies say (policies_evaluate evaluates again until it settles)."""
    quota, budget = standing.quota, standing.budget
    return {
        "request": {
            "parameters": parameters,
            "ttl_hours": ttl_hours,
            "justification": justification,
            "cost": float(cost),
            "change_kind": change_kind,
            "risk_tier": version.risk_tier,
        },
        "service": service,
        "user": {
            "username": actor.get_username(),
            "platform_admin": permissions.is_platform_admin(actor),
            "team_role": permissions.team_role(actor, team.pk) or "",
        },
        "team": {"slug": team.slug, "cost_center": team.cost_center},
        "template": {
            "name": version.template.slug,
            "version": version.version,
            "risk_tier": version.risk_tier,
            "required_approvals": version.required_approvals,
            "cost_monthly": float(version.cost_monthly),
            "currency": version.currency,
            "default_ttl_hours": version.default_ttl_hours,
            "max_ttl_hours": version.max_ttl_hours,
            "resources": amounts,
            "tags": version.document.get("metadata", {}).get("tags", []),
        },
        "usage": {
            "resource": {
                "kind": amounts["kind"],
                "used": standing.used,
                "limits": {amount: getattr(quota, limit) for limit, amount in DIMENSIONS},
            },
            "budget": {
                "period": period.isoformat(),
                "spent": float(standing.spent),
                "limit": float(budget.monthly_limit) if budget else None,
                "currency": budget.currency if budget else version.currency,
            },
        },
    }


# --- submission -------------------------------------------------------------------------------


def request_submit(
    *,
    actor,
    template,
    team,
    parameters: dict,
    version: str | None = None,
    ttl_hours: int | None = None,
    justification: str = "",
    change_kind: str = ChangeKind.NORMAL,
) -> Request:
    """File a request: validate (nothing is written when it is invalid); then, in one
    transaction, lock the team's quota and budget counters, evaluate the policies, reserve,
    and deny, wait for approval, or approve and hand off to provisioning — each step audited.

    `template` is a slug, Template or TemplateVersion; `version` picks one (default: latest).
    `change_kind` says whether it is a fix or a break-glass change (the freeze policy lets
    those through; a break-glass request waits for a platform admin's break-glass).
    Raises RequestInvalid (field errors) or PermissionDenied (not a member of the team).
    """
    chosen = _resolve_version(template, version)
    team = _resolve_team(actor, team)
    errors = {
        **parameter_errors(chosen, parameters),
        **request_field_errors(chosen, ttl_hours, justification, change_kind),
    }
    if errors:
        raise RequestInvalid(errors)
    ttl = ttl_hours or chosen.default_ttl_hours
    amounts = resources_for(chosen.resources, chosen.parameters_schema, parameters)
    cost = cost_for(chosen, ttl)
    period = month_start()
    versions = policies_active()
    target = request_target(version=chosen, parameters=parameters)
    service = target.policy_input() if target else None
    request = Request(
        template_version=chosen,
        team=team,
        requester=actor,
        parameters=parameters,
        justification=justification,
        change_kind=change_kind,
        ttl_hours=ttl,
    )
    with transaction.atomic():
        # The team's counters are locked before anything is written (lock order); the policies
        # see the usage read under that lock, the same the quota check sees.
        standing = standing_locked(team=team, kind=amounts["kind"], period=period)
        document = policy_input(
            actor=actor,
            team=team,
            version=chosen,
            parameters=parameters,
            ttl_hours=ttl,
            justification=justification,
            amounts=amounts,
            cost=cost,
            period=period,
            standing=standing,
            change_kind=change_kind,
            service=service,
        )
        outcome = policies_evaluate(document=document, versions=versions)
        tier = lifecycle.higher_tier(chosen.risk_tier, outcome.risk_tier)
        request.risk_tier = tier
        request.required_approvals = lifecycle.approvals_needed(tier, chosen.required_approvals)
        if change_kind == ChangeKind.BREAK_GLASS:
            # Approved by a platform admin's break-glass only, so it waits for one.
            request.required_approvals = max(1, request.required_approvals)
        request.warnings = outcome.warn
        quota_reasons = (
            []
            if outcome.deny
            else quota_excess(
                standing=standing, team=team, amounts=amounts, cost=cost, period=period
            )
        )
        request.save(force_insert=True)
        for decision in outcome.decisions:
            decision.request = request
        PolicyDecision.objects.bulk_create(outcome.decisions)
        attachments = {"decisions": outcome.summary(), "reservation": None, "approvals": []}
        log_transition(request, "", RequestState.SUBMITTED, actor, "", attachments)
        denied = outcome.deny + quota_reasons
        if denied:
            return request_transition(
                request=request,
                to_state=RequestState.DENIED,
                actor=None,
                reason="; ".join(denied),
                fields={"deny_reasons": denied},
                attachments=attachments,
            )
        reservation = reservation_create(
            request=request, amounts=amounts, cost=cost, currency=chosen.currency, period=period
        )
        attachments["reservation"] = reservation.as_dict()
        if request.required_approvals == 0:
            request_transition(
                request=request,
                to_state=RequestState.APPROVED,
                actor=None,
                reason=f"{tier} risk: approved automatically",
                attachments=attachments,
            )
            return request_start_provisioning(request=request, actor=None, attachments=attachments)
        n = request.required_approvals
        return request_transition(
            request=request,
            to_state=RequestState.PENDING_APPROVAL,
            actor=None,
            reason=f"{tier} risk: needs {n} approval{'s' if n > 1 else ''}",
            fields=_approval_times(chosen.approval_timeout_hours),
            attachments=attachments,
        )


def _approval_times(timeout_hours: int) -> dict:
    """When a decision on a request now waiting for one is due, and when it expires undecided
    (reminders and escalations come in between: catalog.services.nudges)."""
    from catalog.services.nudges import approval_expiry

    now = timezone.now()
    due = now + dt.timedelta(hours=timeout_hours)
    return {"approval_due_at": due, "approval_expires_at": approval_expiry(filed=now, due=due)}
