"""Pages of the platform metrics: the twelve metrics with their definitions, values per period,
history and links to their rows; one metric in detail; team budgets; incidents (on-call logs
manual actions); and the rating a requester gives a finished request. They read stored
results only."""

from __future__ import annotations

import uuid as uuid_module
from functools import partial

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from catalog.models import Request
from catalog.selectors import request_list_visible
from metrics import catalogue, selectors, services
from metrics.choices import IncidentSeverity
from metrics.periods import KINDS, PeriodError, period_containing, period_parse
from slo.models import SLO
from teams import permissions
from teams.models import Team

HISTORY_PERIODS = 30


def _period(request):
    kind = request.GET.get("period") or "week"
    if kind not in KINDS:
        kind = "week"
    try:
        if request.GET.get("at"):
            return period_parse(kind, request.GET["at"]), ""
    except PeriodError as exc:
        return period_containing(kind, timezone.now()), str(exc)
    return period_containing(kind, timezone.now()), ""


def _navigation(period) -> dict:
    now = timezone.now()
    later = period.next()
    return {
        "period": period,
        "kinds": KINDS,
        "previous": period.previous(),
        "following": later if later.start <= now else None,
        "current": period.contains(now),
    }


@login_required
def metric_list(request):
    period, problem = _period(request)
    if problem:
        messages.error(request, problem)
    views = selectors.metrics_overview(user=request.user, period=period)
    return render(
        request,
        "metrics/metric_list.html",
        {
            **_navigation(period),
            "views": [(view, selectors.source_links(view.metric, period)) for view in views],
            "sees_totals": selectors.sees_totals(request.user),
        },
    )


def _metric_and_period(request, key: str):
    """The metric a URL names (404 when none) and the period its query string asks for (a
    period it cannot read is said in a message, and the current one shown)."""
    try:
        metric = catalogue.metric_lookup(key)
    except KeyError:
        raise Http404("No such metric") from None
    period, problem = _period(request)
    if problem:
        messages.error(request, problem)
    return metric, period


@login_required
def metric_detail(request, key: str):
    metric, period = _metric_and_period(request, key)
    figures = selectors.metric_figures(user=request.user, metric=metric, period=period)
    headline = figures[0] if figures else None
    history = selectors.metric_history(
        user=request.user,
        metric=metric,
        kind=period.kind,
        team_id=headline.team_id if headline else None,
        until=period.start,
        limit=HISTORY_PERIODS,
    )
    definitions = {d.metric: d for d in selectors.metric_definitions()}
    return render(
        request,
        "metrics/metric_detail.html",
        {
            **_navigation(period),
            "metric": metric,
            "definition": definitions.get(metric.key),
            "earlier": [row.value for row in history if row.period_start < period.start],
            "figures": figures,
            "headline": headline,
            "history": history,
            "chart": _chart(metric, history) if len(history) > 1 else None,
            "links": selectors.source_links(metric, period),
        },
    )


ROWS_SHOWN = 1000
HIDDEN_COLUMNS = {"link", "team_id", "team_ids"}


@login_required
def metric_rows(request, key: str):
    """The records behind one metric's figures for a period, as a table (the API and CSV give
    the same rows whole)."""
    metric, period = _metric_and_period(request, key)
    rows = selectors.metric_rows(user=request.user, metric=metric, period=period)
    columns: list[str] = []
    for row in rows:
        columns += [c for c in row if c not in columns and c not in HIDDEN_COLUMNS]
    return render(
        request,
        "metrics/metric_rows.html",
        {
            **_navigation(period),
            "metric": metric,
            "columns": columns,
            "rows": [([row.get(c) for c in columns], row.get("link")) for row in rows[:ROWS_SHOWN]],
            "count": len(rows),
            "shown": min(len(rows), ROWS_SHOWN),
            "links": selectors.source_links(metric, period),
        },
    )


def _chart(metric, history) -> dict:
    from metrics.periods import Period
    from slo.charts import _figure, _line

    x = [Period(row.period_kind, row.period_start).label for row in history]
    y = [row.value for row in history]
    traces = [_line(metric.value_label, x, y, connectgaps=False, mode="lines+markers")]
    if metric.target and not metric.target.dimension:
        traces.append(
            _line(
                f"target {metric.target.text}",
                x,
                [metric.target.threshold] * len(x),
                line={"dash": "dash", "color": "#cf222e"},
            )
        )
    axis = {"tickformat": ".2%"} if metric.unit == catalogue.RATIO else {}
    figure = _figure(f"{metric.title} per {history[0].period_kind}", traces, axis)
    figure["layout"]["xaxis"] = {"type": "category"}  # one point per period, labelled as such
    return figure


@login_required
def budgets(request):
    month = period_containing("month", timezone.now())
    alerts = selectors.budget_alerts_visible(user=request.user).order_by("-month", "team__slug")
    return render(
        request,
        "metrics/budgets.html",
        {"alerts": list(alerts[:200]), "month": month, "threshold": services.BURN_ALERT},
    )


# --- incidents (on-call) ------------------------------------------------------------------------


@login_required
def incident_list(request):
    can_act = permissions.is_oncall(request.user)
    incidents = selectors.incidents_visible(user=request.user)
    return render(
        request,
        "metrics/incidents.html",
        {
            "incidents": list(incidents[:100]),
            "can_act": can_act,
            "severities": IncidentSeverity.choices,
            "teams": Team.objects.order_by("slug") if can_act else [],
            "slos": SLO.objects.order_by("name").only("name") if can_act else [],
        },
    )


@login_required
def incident_detail(request, uuid):
    """One incident: what it concerns, its actions, and the template, policy and SLO changes of
    the 24 hours before it began, with their rollbacks (platform admins)."""
    incident = get_object_or_404(
        selectors.incidents_visible(user=request.user).prefetch_related("actions__actor"),
        uuid=uuid,
    )
    return render(
        request,
        "metrics/incident_detail.html",
        {
            "incident": incident,
            "can_act": permissions.is_oncall(request.user),
            "can_roll_back": permissions.is_platform_admin(request.user),
            "changes": selectors.incident_changes(incident=incident),
            "window_hours": int(selectors.CHANGE_WINDOW.total_seconds() // 3600),
        },
    )


def _run(request, action, success: str) -> None:
    """Run one write; its problems (or its success) come back as messages on the page. Who may
    not do it gets a 403 (audited), as on the catalog's pages: the pages never offer them the
    form, so only a forged or stale POST gets here."""
    try:
        action()
    except services.PlatformInvalid as exc:
        for field_errors in exc.errors.values():
            for error in field_errors:
                messages.error(request, error)
    else:
        messages.success(request, success)


def _moment(text: str):
    """A date-time typed on a page (UTC unless it says otherwise); None when unreadable."""
    moment = parse_datetime(text.strip().replace(" ", "T", 1)) if text.strip() else None
    if moment is not None and timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_current_timezone())
    return moment


@login_required
@require_POST
def incident_open(request):
    if not permissions.is_oncall(request.user):
        raise PermissionDenied("Incidents are opened by on-call and platform admins.")
    team = Team.objects.filter(slug=request.POST.get("team", "")).first()
    slos = list(SLO.objects.filter(name__in=request.POST.getlist("slos")))
    named = request.POST.get("requests", "").replace(",", " ").split()
    # On-call sees every team's requests (as on their dashboard); only on-call opens incidents.
    linkable = (
        Request.objects.all() if permissions.is_oncall(request.user) else Request.objects.none()
    )
    found = {str(r.uuid): r for r in linkable.filter(uuid__in=[n for n in named if _is_uuid(n)])}
    unknown = [n for n in named if n not in found]
    started = request.POST.get("started_at") or ""
    started_at = _moment(started)
    if unknown or (started and started_at is None):
        if unknown:
            messages.error(request, f"Requests: no request {', '.join(unknown)} that you may see.")
        if started and started_at is None:
            messages.error(request, "Impact began: use a date and time, e.g. 2026-01-07 14:30.")
        return redirect("metrics:incident-list")
    opened = {}

    def open_it():
        opened["incident"] = services.incident_open(
            actor=request.user,
            title=request.POST.get("title", ""),
            team=team,
            slos=slos,
            requests=list(found.values()),
            severity=request.POST.get("severity") or IncidentSeverity.SEV2,
            started_at=started_at,
        )

    _run(request, open_it, "Incident opened.")
    if "incident" in opened:
        return redirect("metrics:incident-detail", uuid=opened["incident"].uuid)
    return redirect("metrics:incident-list")


def _is_uuid(text: str) -> bool:
    try:
        uuid_module.UUID(text)
    except ValueError:
        return False
    return True


def _incident_post(request, uuid, action, success: str):
    incident = get_object_or_404(selectors.incidents_visible(user=request.user), uuid=uuid)
    _run(request, lambda: action(incident), success)
    return redirect("metrics:incident-detail", uuid=incident.uuid)


@login_required
@require_POST
def incident_acknowledge(request, uuid):
    return _incident_post(
        request,
        uuid,
        lambda incident: services.incident_acknowledge(actor=request.user, incident=incident),
        "Acknowledged: the incident is yours.",
    )


@login_required
@require_POST
def incident_action(request, uuid):
    performed = request.POST.get("performed_at") or ""
    moment = _moment(performed)
    if performed and moment is None:
        incident = get_object_or_404(selectors.incidents_visible(user=request.user), uuid=uuid)
        messages.error(request, "When: use a date and time, e.g. 2026-01-07 14:30.")
        return redirect("metrics:incident-detail", uuid=incident.uuid)
    return _incident_post(
        request,
        uuid,
        lambda incident: services.oncall_action_log(
            actor=request.user,
            incident=incident,
            description=request.POST.get("description", ""),
            performed_at=moment,
        ),
        "Action logged.",
    )


@login_required
@require_POST
def incident_resolve(request, uuid):
    return _incident_post(
        request,
        uuid,
        lambda incident: services.incident_resolve(actor=request.user, incident=incident),
        "Incident resolved.",
    )


# --- the rating of a finished request (M12) -----------------------------------------------------


@login_required
def request_rating(request, uuid):
    """GET: the rating fragment of the request page (htmx polls it while the request is under
    way); POST: the requester's rating."""
    item = get_object_or_404(request_list_visible(user=request.user), uuid=uuid)
    if request.method == "POST":
        rating = partial(
            services.rating_submit,
            actor=request.user,
            request=Request.objects.get(pk=item.pk),
            score=request.POST.get("score"),
            comment=request.POST.get("comment", ""),
        )
        _run(request, rating, "Thank you for rating this request.")
        return redirect("catalog:request-detail", uuid=item.uuid)
    if request.method != "GET":
        return HttpResponse(status=405)
    return render(request, "metrics/_request_rating.html", {"item": item})


# --- the quarterly survey (M12) -----------------------------------------------------------------


@login_required
@require_POST
def survey(request):
    """The survey's answer (score 0–10) or its dismissal (`dismiss`); back to the page it was
    asked on."""
    if request.POST.get("dismiss"):
        _run(
            request,
            lambda: services.survey_dismiss(actor=request.user),
            "Asked again next quarter.",
        )
    else:
        _run(
            request,
            lambda: services.survey_answer(actor=request.user, score=request.POST.get("score")),
            "Thank you for answering.",
        )
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    return redirect(target)
