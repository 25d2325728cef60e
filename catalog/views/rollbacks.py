"""Rolling a change back from an incident's page: deprecate a template version, or make an
earlier policy version current again. Platform admins only; each goes back to the page it came
from (an incident's, usually) with a message."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from catalog import services
from catalog.models import Policy, TemplateVersion
from teams import permissions


def _back(request, fallback: str):
    target = request.POST.get("next") or fallback
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = fallback
    return redirect(target)


def _require_platform_admin(request, what: str) -> None:
    if not permissions.is_platform_admin(request.user):
        raise PermissionDenied(f"Only platform admins {what}.")


@login_required
@require_POST
def template_version_deprecate(request, slug: str, version: str):
    _require_platform_admin(request, "deprecate template versions")
    found = get_object_or_404(TemplateVersion, template__slug=slug, version=version)
    reason = (request.POST.get("reason") or "rolled back").strip()[:500]
    if services.template_version_deprecate(actor=request.user, version=found, reason=reason):
        messages.success(request, f"{slug} {version} is deprecated: no new requests use it.")
    else:
        messages.error(request, f"{slug} {version} was already deprecated.")
    return _back(request, f"/catalog/{slug}/")


@login_required
@require_POST
def policy_restore(request, slug: str, number: int):
    _require_platform_admin(request, "restore policy versions")
    policy = get_object_or_404(Policy, slug=slug)
    try:
        restored = services.policy_restore(actor=request.user, policy=policy, number=number)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(
            request,
            f"{slug} v{number} is current again (as v{restored.current_version.number}).",
        )
    return _back(request, "/catalog/")
