"""Saving policies (new immutable version per change, examples must pass) and evaluating the
enabled ones for a request input, each decision kept."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from audit.services import audit_record
from catalog import lifecycle
from catalog.choices import DecisionOutcome, PolicyMode
from catalog.metrics import POLICY_DECISIONS, POLICY_SECONDS
from catalog.models import Policy, PolicyDecision, PolicyVersion
from catalog.policy.documents import MODES, lint_examples, run_examples
from catalog.policy.engine import PolicyModule, default_engine
from catalog.template_spec import document_digest

logger = logging.getLogger(__name__)


def policy_problems(*, slug: str, source: str, examples: list) -> list[str]:
    """Why this module and its examples cannot be saved: compile errors and failing examples."""
    problems = [str(error) for error in lint_examples(examples, "examples")]
    if problems:
        return problems
    return run_examples(default_engine(), PolicyModule(name=slug, source=source), examples)


def policy_save(
    *,
    actor,
    slug: str,
    title: str,
    source: str,
    mode: str = PolicyMode.ENFORCE,
    examples: list | None = None,
    description: str = "",
    enabled: bool = True,
) -> tuple[Policy, bool]:
    """Create or change a policy. A change of module, examples or mode makes a new version;
    it is refused (ValidationError) unless the module compiles and every example passes.
    Returns (policy, changed)."""
    examples = examples or []
    if mode not in MODES:
        raise ValidationError({"mode": f"must be one of {', '.join(MODES)}"})
    problems = policy_problems(slug=slug, source=source, examples=examples)
    if problems:
        raise ValidationError({"source": problems})
    digest = document_digest({"source": source, "examples": examples, "mode": mode})
    with transaction.atomic():
        policy = Policy.objects.select_for_update().filter(slug=slug).first()
        created = policy is None
        if created:
            policy = Policy(slug=slug, title=title)
            policy.full_clean(exclude=["current_version"])
            policy.save()
        current = policy.current_version
        new_version = current is None or current.digest != digest
        meta_changed = (policy.title, policy.description, policy.enabled) != (
            title,
            description,
            enabled,
        )
        if not (new_version or meta_changed or created):
            return policy, False
        if new_version:
            policy.current_version = PolicyVersion.objects.create(
                policy=policy,
                number=(current.number + 1) if current else 1,
                mode=mode,
                source=source,
                examples=examples,
                digest=digest,
                created_by=actor if actor is not None and actor.is_authenticated else None,
            )
        policy.title, policy.description, policy.enabled = title, description, enabled
        policy.save()
        audit_record(
            action="policy.created" if created else "policy.updated",
            actor=actor,
            obj=policy,
            payload={
                "policy": slug,
                "version": policy.current_version.number,
                "mode": mode,
                "enabled": enabled,
                "digest": digest,
                "new_version": new_version,
            },
        )
    return policy, True


def policy_restore(*, actor, policy: Policy, number: int) -> Policy:
    """Make an earlier version's module, examples and mode current again, as a new version (the
    history stays whole); platform admins only. Audited as the change it is (`policy.updated`)
    and as a restore (`policy.restored`), in one transaction."""
    from teams import permissions

    if not permissions.is_platform_admin(actor):
        raise PermissionDenied("Only platform admins restore policy versions.")
    earlier = PolicyVersion.objects.filter(policy=policy, number=number).first()
    if earlier is None:
        raise ValidationError({"version": f"{policy.slug} has no version {number}"})
    with transaction.atomic():
        restored, changed = policy_save(
            actor=actor,
            slug=policy.slug,
            title=policy.title,
            source=earlier.source,
            mode=earlier.mode,
            examples=earlier.examples,
            description=policy.description,
            enabled=policy.enabled,
        )
        if changed:
            audit_record(
                action="policy.restored",
                actor=actor,
                obj=restored,
                payload={
                    "policy": policy.slug,
                    "restored": number,
                    "version": restored.current_version.number,
                },
            )
    return restored


def input_digest(document: dict) -> str:
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass
class PolicyOutcome:
    """What the enabled policies decided for one input; decisions are not yet saved."""

    decisions: list[PolicyDecision] = field(default_factory=list)
    deny: list[str] = field(default_factory=list)
    warn: list[str] = field(default_factory=list)
    risk_tier: str = ""

    def summary(self) -> list[dict]:
        return [
            {
                "policy": d.policy_version.policy.slug,
                "version": d.policy_version.number,
                "mode": d.mode,
                "outcome": d.outcome,
                "enforced": d.enforced,
            }
            for d in self.decisions
        ]


def _apply(outcome: PolicyOutcome, version: PolicyVersion, decision: PolicyDecision) -> None:
    """Fold one decision into the outcome according to its policy's mode."""
    slug = version.policy.slug
    if decision.mode == PolicyMode.ENFORCE:
        if decision.error:
            outcome.deny.append(
                f"policy {slug} (v{version.number}) {decision.error}; "
                "the request is denied because policies fail closed"
            )
        outcome.deny.extend(f"{message} (policy {slug})" for message in decision.deny)
        outcome.warn.extend(f"{message} (policy {slug})" for message in decision.warn)
        outcome.risk_tier = lifecycle.higher_tier(outcome.risk_tier, decision.risk_tier)
    elif decision.mode == PolicyMode.WARN:
        if decision.error:
            outcome.warn.append(f"policy {slug} (v{version.number}) {decision.error}")
        messages = [*decision.deny, *decision.warn]
        outcome.warn.extend(f"{message} (policy {slug}, warn only)" for message in messages)
    else:
        logger.info(
            "policy dry-run decision",
            extra={
                "policy": slug,
                "policy_version": version.number,
                "outcome": decision.outcome,
                "deny": decision.deny,
                "error": decision.error,
            },
        )


def policies_active() -> list[PolicyVersion]:
    """The current versions of the enabled policies (each with its policy), by slug."""
    policies = (
        Policy.objects.filter(enabled=True, current_version__isnull=False)
        .select_related("current_version")
        .order_by("slug")
    )
    versions = []
    for policy in policies:
        version = policy.current_version
        version.policy = policy
        versions.append(version)
    return versions


def _settled(engine, versions: list[PolicyVersion], modules: list, document: dict) -> list:
    """The verdicts once `request.risk_tier` (when the input has one) holds the tier the
    enforcing policies give: evaluated again while the tier rises (at most once per tier), so
    that a policy may act on the risk another policy raised."""
    verdicts = engine.evaluate_all(modules, document)
    request = document.get("request")
    if not isinstance(request, dict) or "risk_tier" not in request:
        return verdicts
    for _ in lifecycle.TIERS:
        tier = request["risk_tier"]
        for version, verdict in zip(versions, verdicts, strict=True):
            if version.mode == PolicyMode.ENFORCE and not verdict.failed:
                tier = lifecycle.higher_tier(tier, verdict.risk_tier)
        if tier == request["risk_tier"]:
            break
        request["risk_tier"] = tier
        verdicts = engine.evaluate_all(modules, document)
    return verdicts


def policies_evaluate(
    *, document: dict, versions: list[PolicyVersion] | None = None
) -> PolicyOutcome:
    """Run every enabled policy on the input (enforce: deny and raise the tier; warn: warn;
    dry-run: only decided and logged). A policy that errors denies when it enforces."""
    engine = default_engine()
    outcome = PolicyOutcome()
    versions = policies_active() if versions is None else versions
    modules = [PolicyModule(name=v.policy.slug, source=v.source) for v in versions]
    verdicts = _settled(engine, versions, modules, document)
    digest = input_digest(document)
    for version, verdict in zip(versions, verdicts, strict=True):
        slug = version.policy.slug
        if verdict.failed:
            result = DecisionOutcome.ERROR
        else:
            result = DecisionOutcome.DENY if verdict.deny else DecisionOutcome.ALLOW
        decision = PolicyDecision(
            policy_version=version,
            mode=version.mode,
            outcome=result,
            enforced=version.mode == PolicyMode.ENFORCE,
            deny=list(verdict.deny),
            warn=list(verdict.warn),
            risk_tier=verdict.risk_tier,
            error=verdict.error,
            input_digest=digest,
            latency_ms=round(verdict.latency_ms, 3),
        )
        _apply(outcome, version, decision)
        outcome.decisions.append(decision)
        POLICY_DECISIONS.labels(policy=slug, mode=version.mode, outcome=result).inc()
        POLICY_SECONDS.observe(verdict.latency_ms / 1000)
    return outcome
