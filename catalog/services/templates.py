"""Publishing and deprecating template versions (atomic, audited)."""

from __future__ import annotations

import semver
from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from catalog.choices import VersionStatus
from catalog.models import ImmutableVersionError, Template, TemplateVersion
from catalog.template_spec import TemplateSpec


def _latest_published(template: Template) -> TemplateVersion | None:
    versions = list(template.versions.filter(status=VersionStatus.PUBLISHED))
    return max(versions, key=lambda v: semver.Version.parse(v.version), default=None)


def _template_refresh(template: Template) -> None:
    """Point the catalog entry at its newest published version and mirror its display fields."""
    latest = _latest_published(template)
    template.latest_version = latest
    if latest is not None:
        template.title = latest.title
        template.description = latest.description
        template.owner = latest.owner
        template.risk_tier = latest.risk_tier
        template.tags = Template.tags_text(latest.document["metadata"].get("tags", []))
    template.save()


def template_version_conflict(spec: TemplateSpec) -> str:
    """Why this spec cannot be published ('' when it can): a published version never changes."""
    existing = (
        TemplateVersion.objects.filter(template__slug=spec.name, version=spec.version)
        .values_list("digest", flat=True)
        .first()
    )
    if existing is not None and existing != spec.digest:
        return (
            f"version {spec.version} of {spec.name} is already published with other content; "
            "published versions are immutable: bump spec.version"
        )
    return ""


def template_publish(
    *, actor, spec: TemplateSpec, source_path: str = ""
) -> tuple[TemplateVersion, bool]:
    """Publish one version; (version, True) when new, (existing, False) when already identical."""
    with transaction.atomic():
        template, _ = Template.objects.select_for_update().get_or_create(
            slug=spec.name,
            defaults={"title": spec.title, "risk_tier": spec.risk_tier},
        )
        existing = template.versions.filter(version=spec.version).first()
        if existing is not None:
            if existing.digest != spec.digest:
                raise ImmutableVersionError(template_version_conflict(spec))
            return existing, False
        version = TemplateVersion.objects.create(
            template=template,
            version=spec.version,
            title=spec.title,
            description=spec.description,
            owner=spec.owner,
            risk_tier=spec.risk_tier,
            default_ttl_hours=spec.default_ttl_hours,
            max_ttl_hours=spec.max_ttl_hours,
            approval_timeout_hours=spec.approval_timeout_hours,
            required_approvals=spec.required_approvals,
            cost_monthly=spec.cost_monthly,
            currency=spec.currency,
            resources=spec.resources,
            parameters_schema=spec.parameters,
            steps=spec.steps,
            outputs=spec.output,
            document=spec.document,
            digest=spec.digest,
            source_path=source_path,
            published_by=actor if actor is not None and actor.is_authenticated else None,
        )
        _template_refresh(template)
        audit_record(
            action="template.published",
            actor=actor,
            obj=template,
            payload={
                "template": spec.name,
                "version": spec.version,
                "digest": spec.digest,
                "risk_tier": spec.risk_tier,
                "source": source_path,
            },
        )
    return version, True


def template_version_deprecate(*, actor, version: TemplateVersion, reason: str = "") -> bool:
    """Stop new requests on a version (existing requests keep it). False when already done."""
    with transaction.atomic():
        changed = TemplateVersion.objects.filter(
            pk=version.pk, status=VersionStatus.PUBLISHED
        ).update(
            status=VersionStatus.DEPRECATED,
            deprecated_at=timezone.now(),
            deprecation_reason=reason[:500],
        )
        if not changed:
            return False
        version.refresh_from_db()
        _template_refresh(Template.objects.select_for_update().get(pk=version.template_id))
        audit_record(
            action="template.deprecated",
            actor=actor,
            obj=version.template,
            payload={
                "template": version.template.slug,
                "version": version.version,
                "reason": reason,
            },
        )
    return True
