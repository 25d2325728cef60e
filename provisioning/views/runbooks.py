"""Runbook pages: the list, one runbook with its run form, and a run's live page (steps,
verification, approval). `catalog/_runbook_button.html` is the "Run" form other pages (the
on-call dashboard) include."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from catalog.forms import DecisionForm
from catalog.services import RequestInvalid
from catalog.views.common import act, comment_of
from provisioning import selectors
from provisioning.forms import RunbookRunForm
from provisioning.services import runbooks as runbook_services
from teams import permissions
from teams import selectors as team_selectors
from teams.models import Team


def _teams_for(user):
    if permissions.is_oncall(user) or permissions.sees_everything(user):
        return Team.objects.all()
    return team_selectors.team_list_requestable(user=user)


@login_required
def runbook_list(request):
    return render(
        request,
        "provisioning/runbook_list.html",
        {
            "runbooks": selectors.runbook_list(),
            "runs": selectors.runbook_run_list_visible(user=request.user)[:50],
            "can_run_any": permissions.is_oncall(request.user),
        },
    )


def _detail(request, runbook, form, status=200):
    runs = selectors.runbook_run_list_visible(user=request.user).filter(runbook=runbook)[:20]
    return render(
        request,
        "provisioning/runbook_detail.html",
        {"runbook": runbook, "form": form, "runs": runs},
        status=status,
    )


@login_required
def runbook_detail(request, slug):
    runbook = get_object_or_404(selectors.runbook_list(), slug=slug)
    form = RunbookRunForm(runbook=runbook, teams=_teams_for(request.user))
    return _detail(request, runbook, form)


@login_required
@require_POST
def runbook_run(request, slug):
    runbook = get_object_or_404(selectors.runbook_list(), slug=slug)
    form = RunbookRunForm(request.POST, runbook=runbook, teams=_teams_for(request.user))
    if form.is_valid():
        try:
            started = runbook_services.runbook_run_start(
                actor=request.user,
                runbook=runbook,
                team=form.cleaned_data["team"] or None,
                parameters=form.parameters(),
                justification=form.cleaned_data["justification"],
            )
        except RequestInvalid as exc:
            form.add_service_errors(exc.errors)
        else:
            messages.success(request, f"Runbook {runbook.title}: {started.get_state_display()}.")
            return redirect("provisioning:runbook-run-detail", uuid=started.uuid)
    return _detail(request, runbook, form)


def _visible_run(request, uuid):
    return get_object_or_404(selectors.runbook_run_list_visible(user=request.user), uuid=uuid)


def _run_context(request, runbook_run) -> dict:
    steps = list(runbook_run.run.steps.order_by("position")) if runbook_run.run else []
    return {
        "runbook_run": runbook_run,
        "steps": steps,
        "transitions": runbook_run.transitions.select_related("actor"),
        "approvals": runbook_run.approvals.select_related("approver"),
        "can_decide": runbook_run.state == "pending_approval"
        and runbook_services.can_approve(request.user, runbook_run),
        "is_live": runbook_run.state in ("pending_approval", "running", "verifying"),
    }


@login_required
def runbook_run_detail(request, uuid):
    runbook_run = _visible_run(request, uuid)
    context = _run_context(request, runbook_run)
    context["decision_form"] = DecisionForm()
    return render(request, "provisioning/runbook_run_detail.html", context)


@login_required
def runbook_run_live(request, uuid):
    runbook_run = _visible_run(request, uuid)
    return render(
        request, "provisioning/_runbook_run_live.html", _run_context(request, runbook_run)
    )


def _decision(decide, success: str):
    @login_required
    @require_POST
    def view(request, uuid):
        runbook_run = _visible_run(request, uuid)
        act(
            request,
            lambda: decide(
                actor=request.user, runbook_run=runbook_run, comment=comment_of(request)
            ),
            success,
        )
        return redirect("provisioning:runbook-run-detail", uuid=runbook_run.uuid)

    return view


runbook_run_approve = _decision(runbook_services.runbook_run_approve, "Approved: the runbook runs.")
runbook_run_reject = _decision(runbook_services.runbook_run_reject, "Rejected.")
