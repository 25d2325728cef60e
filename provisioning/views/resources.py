"""Resource pages for owners (list, detail, extend, delete, the one-time secret), the orphan
and drift report per team, resolving a drift finding, and cancelling a run from the request
page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from catalog.choices import RequestState
from catalog.views.common import act
from provisioning import selectors, services
from provisioning.filtersets import ResourceFilterSet
from provisioning.forms import ExtendForm
from provisioning.services import drift as drift_services
from provisioning.services import resources as resource_services

PAGE_SIZE = 50


@login_required
def resource_list(request):
    visible = selectors.resource_list_visible(user=request.user)
    query = request.GET.copy()
    if "state" not in query:
        query.setlist("state", ["active", "deleting", "delete_failed"])
    filterset = ResourceFilterSet(query, queryset=visible, request=request)
    page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "provisioning/resource_list.html",
        {"filterset": filterset, "page": page, "query": query},
    )


def _visible_resource(request, uuid):
    return get_object_or_404(selectors.resource_list_visible(user=request.user), uuid=uuid)


@login_required
def resource_detail(request, uuid):
    resource = _visible_resource(request, uuid)
    user = request.user
    item = resource.request
    secret = getattr(resource, "secret", None)
    drift = resource.drift_findings.select_related("resolved_by").order_by("-last_seen_at").first()
    return render(
        request,
        "provisioning/resource_detail.html",
        {
            "resource": resource,
            "transitions": resource.transitions.select_related("actor"),
            "can_manage": resource_services.can_manage(user, resource),
            "can_extend": item.state == RequestState.READY and resource.state == "active",
            "can_delete": item.state
            in (RequestState.READY, RequestState.EXPIRED, RequestState.FAILED)
            and resource.is_held,
            "limit": resource_services.extension_limit(item),
            "extend_form": ExtendForm(),
            "can_reveal": secret is not None
            and secret.can_reveal
            and user.pk == resource.requester_id,
            "secret": secret,
            "drift": drift,
            "can_accept_drift": drift is not None and drift_services.can_accept(user, drift),
            "can_reapply_drift": drift is not None and drift_services.can_reapply(user, drift),
        },
    )


def _on_resource(request, uuid, action, success: str):
    resource = _visible_resource(request, uuid)
    act(request, lambda: action(resource), success)
    return redirect("provisioning:resource-detail", uuid=resource.uuid)


@login_required
@require_POST
def resource_extend(request, uuid):
    form = ExtendForm(request.POST)
    hours = form.cleaned_data["hours"] if form.is_valid() else request.POST.get("hours")
    return _on_resource(
        request,
        uuid,
        lambda resource: resource_services.resource_extend(
            actor=request.user, resource=resource, hours=hours
        ),
        "Extended.",
    )


@login_required
@require_POST
def resource_delete(request, uuid):
    return _on_resource(
        request,
        uuid,
        lambda resource: resource_services.resource_delete(actor=request.user, resource=resource),
        "Deletion started: everything the request created is being deleted.",
    )


@never_cache
@login_required
@require_POST
def resource_secret(request, uuid):
    """The one time the requester sees a new resource's secret (never cached, never again)."""
    resource = _visible_resource(request, uuid)
    try:
        plain = resource_services.secret_reveal(actor=request.user, resource=resource)
    except resource_services.SecretGone as exc:
        messages.error(request, str(exc))
        return redirect("provisioning:resource-detail", uuid=resource.uuid)
    return render(
        request, "provisioning/resource_secret.html", {"resource": resource, "password": plain}
    )


@login_required
def orphan_report(request):
    return render(
        request,
        "provisioning/orphan_report.html",
        {
            "groups": selectors.orphan_report(user=request.user),
            "drift": selectors.drift_findings_visible(user=request.user),
        },
    )


def _on_drift(request, uuid, resolve, success: str):
    finding = get_object_or_404(
        selectors.drift_findings_visible(user=request.user, include_resolved=True), uuid=uuid
    )
    try:
        resolve(finding=finding, actor=request.user)
    except drift_services.DriftNotOpen as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, success)
    return redirect("provisioning:resource-detail", uuid=finding.resource.uuid)


@login_required
@require_POST
def drift_accept(request, uuid):
    return _on_drift(
        request,
        uuid,
        drift_services.drift_accept,
        "Accepted: what the backend holds now is what SSOps expects of this resource.",
    )


@login_required
@require_POST
def drift_reapply(request, uuid):
    return _on_drift(
        request,
        uuid,
        drift_services.drift_reapply,
        "Re-applying the template version: the finding closes when the backend matches again.",
    )


@login_required
@require_POST
def run_cancel(request, uuid):
    run = get_object_or_404(selectors.run_list_visible(user=request.user), uuid=uuid)
    if run.request is None:
        raise PermissionDenied("Only provisioning runs of requests are cancelled here.")
    act(
        request,
        lambda: services.run_cancel(run=run, actor=request.user),
        "Cancelling: what the run did is being undone.",
    )
    return redirect("catalog:request-detail", uuid=run.request.uuid)
