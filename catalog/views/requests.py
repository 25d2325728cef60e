"""Catalog pages: browse and search, template detail, the request form, my requests, request
detail with a live timeline, the approvals inbox and team usage. Forms work without
JavaScript; htmx only refreshes the search results and the timeline."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from catalog import panels, selectors, services
from catalog.choices import ChangeKind, VersionStatus
from catalog.filtersets import RequestFilterSet, TemplateFilterSet
from catalog.forms import PARAM_PREFIX, BreakGlassForm, DecisionForm, RequestForm
from catalog.models import TemplateVersion
from catalog.template_spec import WHOLE_EXPRESSION_RE
from catalog.views.common import act, comment_of
from teams import permissions
from teams import selectors as team_selectors

PAGE_SIZE = 50


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


@login_required
def template_list(request):
    filterset = TemplateFilterSet(request.GET, queryset=selectors.template_list())
    context = {"filterset": filterset, "templates": filterset.qs}
    if _is_htmx(request):
        return render(request, "catalog/_template_results.html", context)
    return render(request, "catalog/template_list.html", context)


@login_required
def template_detail(request, slug):
    template = get_object_or_404(selectors.template_list(include_deprecated=True), slug=slug)
    versions = sorted(template.versions.all(), key=lambda v: v.semver, reverse=True)
    shown = template.latest_version or versions[0]
    return render(
        request,
        "catalog/template_detail.html",
        {"template": template, "version": shown, "versions": versions},
    )


@login_required
def request_create(request, slug):
    versions = TemplateVersion.objects.select_related("template").filter(template__slug=slug)
    chosen = request.GET.get("version") or request.POST.get("version")
    if chosen:
        version = get_object_or_404(versions, version=chosen, status=VersionStatus.PUBLISHED)
    else:
        template = get_object_or_404(selectors.template_list(), slug=slug)
        version = template.latest_version
    form = RequestForm(request.POST or None, version=version, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            created = services.request_submit(
                actor=request.user,
                template=version,
                team=form.cleaned_data["team"],
                parameters=form.parameters(),
                ttl_hours=form.cleaned_data["ttl_hours"],
                justification=form.cleaned_data["justification"],
                change_kind=form.cleaned_data["change_kind"] or ChangeKind.NORMAL,
            )
        except services.RequestInvalid as exc:
            form.add_service_errors(exc.errors)
        else:
            messages.success(request, f"Request filed: {created.get_state_display().lower()}.")
            return redirect("catalog:request-detail", uuid=created.uuid)
    # A form shown again with its errors answers 200, as Django's own views do.
    context = {"form": form, "version": version, **_freeze_context(version, form)}
    return render(request, "catalog/request_form.html", context)


def _freeze_context(version: TemplateVersion, form) -> dict:
    """What the form says about a change freeze of the service the request would change,
    from the parameters given so far (or the template's defaults)."""
    target = version.target
    if not target:
        return {"freeze_target": None}
    parameters = {
        name: form.data.get(PARAM_PREFIX + name)
        for name in form.parameter_names
        if form.data.get(PARAM_PREFIX + name)
    }
    service = selectors.request_target(version=version, parameters=parameters)
    watched = [
        PARAM_PREFIX + name
        for name in (_parameter_of(target.get("service", "")), target.get("environment"))
        if name
    ]
    return {"freeze_target": service, "freeze_watched": watched}


def _parameter_of(text: str) -> str:
    """NAME of a service given as ${{ parameters.NAME }} ("" for a fixed name)."""
    found = WHOLE_EXPRESSION_RE.match(text or "")
    return found.group(1).split(".", 1)[1] if found and "." in found.group(1) else ""


@login_required
def request_freeze(request, slug):
    """The freeze panel of the request form, as the service and environment fields change."""
    versions = TemplateVersion.objects.select_related("template").filter(template__slug=slug)
    chosen = request.GET.get("version")
    if chosen:
        version = get_object_or_404(versions, version=chosen, status=VersionStatus.PUBLISHED)
    else:
        version = get_object_or_404(selectors.template_list(), slug=slug).latest_version
    form = RequestForm(request.GET, version=version, user=request.user)
    return render(request, "catalog/_freeze.html", _freeze_context(version, form))


@login_required
def request_list(request):
    query = request.GET.copy()
    if "mine" not in query and "team" not in query:
        query["mine"] = "true"
    visible = selectors.request_list_visible(user=request.user)
    filterset = RequestFilterSet(query, queryset=visible, request=request)
    page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    teams = team_selectors.team_list_visible(user=request.user)
    return render(
        request,
        "catalog/request_list.html",
        {"filterset": filterset, "page": page, "teams": teams, "query": query},
    )


def _visible_request(request, uuid):
    return get_object_or_404(selectors.request_list_visible(user=request.user), uuid=uuid)


def _detail_context(request, item) -> dict:
    user = request.user
    live_panels = panels.panels(request, item, live=True)
    return {
        "item": item,
        "now": timezone.now(),
        "live_panels": live_panels,
        "is_live": item.is_live or any(panel.live for panel in live_panels),
        "timeline": selectors.request_timeline(request=item),
        "approvals_given": selectors.request_approvals_given(request=item),
        "can_decide": item.state == "pending_approval" and permissions.can_decide(user, item),
        "already_decided": item.approvals.filter(approver_id=user.pk).exists(),
        "is_requester": item.requester_id == user.pk,
        "can_cancel": item.state in {"pending_approval", "approved"}
        and permissions.can_cancel(user, item),
        "can_break_glass": item.state == "pending_approval"
        and permissions.can_break_glass(user, item),
    }


@login_required
def request_detail(request, uuid):
    item = _visible_request(request, uuid)
    context = _detail_context(request, item)
    context.update(
        decision_form=DecisionForm(),
        break_glass_form=BreakGlassForm(),
        panels=panels.panels(request, item, live=False),
        decisions=item.decisions.select_related("policy_version__policy"),
        reservation=getattr(item, "reservation", None),
    )
    return render(request, "catalog/request_detail.html", context)


@login_required
def request_timeline(request, uuid):
    item = _visible_request(request, uuid)
    return render(request, "catalog/_request_live.html", _detail_context(request, item))


def _act(request, uuid, action, success: str):
    """Run one POSTed decision; problems come back as messages on the request's page."""
    item = _visible_request(request, uuid)
    act(request, lambda: action(item), success)
    target = request.POST.get("next", "")
    if target == "inbox":
        return redirect("catalog:approval-inbox")
    return redirect("catalog:request-detail", uuid=item.uuid)


def _decision_view(decide, success: str):
    """A POST view that records one approver's decision (approve or reject) with a comment."""

    @login_required
    @require_POST
    def view(request, uuid):
        return _act(
            request,
            uuid,
            lambda item: decide(request=item, actor=request.user, comment=comment_of(request)),
            success,
        )

    return view


request_approve = _decision_view(services.request_approve, "Approved.")
request_reject = _decision_view(services.request_reject, "Rejected.")


@login_required
@require_POST
def request_cancel(request, uuid):
    return _act(
        request,
        uuid,
        lambda item: services.request_cancel(request=item, actor=request.user),
        "Cancelled.",
    )


@login_required
@require_POST
def request_break_glass(request, uuid):
    form = BreakGlassForm(request.POST)
    reason = request.POST.get("reason", "")
    hours = form.cleaned_data["hours"] if form.is_valid() else form.fields["hours"].initial
    return _act(
        request,
        uuid,
        lambda item: services.request_break_glass(
            request=item, actor=request.user, reason=reason, hours=hours
        ),
        "Break-glass approval recorded; the request is flagged.",
    )


@login_required
def approval_inbox(request):
    return render(
        request,
        "catalog/approval_inbox.html",
        {
            "inbox": selectors.approval_inbox(user=request.user).prefetch_related("nudges"),
            "now": timezone.now(),
            "waiting": selectors.waiting_on_others(user=request.user),
            "decision_form": DecisionForm(),
        },
    )


@login_required
def team_list(request):
    teams = [
        selectors.team_usage(team=team)
        for team in team_selectors.team_list_visible(user=request.user)
    ]
    return render(request, "catalog/team_list.html", {"usages": teams})


@login_required
def team_usage(request, slug):
    # Another team's page is not found, as in the API: a 403 would tell that the team exists.
    team = get_object_or_404(team_selectors.team_list_visible(user=request.user), slug=slug)
    return render(request, "catalog/team_usage.html", {"usage": selectors.team_usage(team=team)})
