"""SLO pages: the list with budget and burn, the detail with charts, burn rates and alert history.
Each reads stored evaluations only; empty and error states say what to do."""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseNotModified
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from slo import maths
from slo.backtest import BacktestError
from slo.charts import backtest_chart, slo_charts
from slo.choices import DataStatus, EvaluationPath
from slo.filtersets import SLOFilterSet
from slo.forms import MaintenanceForm, SLOEditForm
from slo.models import SLO, Service
from slo.selectors import (
    adjustments_visible,
    service_freeze,
    slo_alert_events,
    slo_can_create,
    slo_can_edit,
    slo_get_visible,
    slo_groups,
    slo_history,
    slo_listing_order,
    slo_maintenance,
    slo_visible,
    slo_with_latest,
)
from slo.services import adjustment_create, adjustment_delete, slo_save
from slo.services.backtests import DEFAULT_DAYS, slo_backtest_draft

LIST_LIMIT = 500
# The SLO page lists the maintenance windows of the next week.
MAINTENANCE_AHEAD = timedelta(days=7)


@dataclass
class StatusMessage:
    level: str  # "ok", "warn", "bad": the CSS class
    text: str


def status_message(slo: SLO) -> StatusMessage | None:
    """What the data status means for this SLO, and what to do about it."""
    source = slo.data_source.name if slo.data_source else "Prometheus"
    since = f"{slo.data_status_since:%Y-%m-%d %H:%M} UTC" if slo.data_status_since else ""
    if slo.evaluated_at is None:
        return StatusMessage(
            "warn",
            "Not evaluated yet. The beat job evaluates every SLO each minute: check that a Celery "
            f"worker runs with -B. To see the figures now: python manage.py slo_evaluate --slo "
            f"{slo.name}",
        )
    if slo.data_status == DataStatus.UNAVAILABLE:
        detail = slo.data_status_detail
        if "not set" in detail:
            what = f"{source} is not configured since {since}: set PROMETHEUS_URL and restart"
        elif "unreachable" in detail:
            what = f"{source} is unreachable since {since}: check that it is up and reachable"
        else:
            what = f"{source} cannot answer since {since}"
        return StatusMessage(
            "bad",
            f"{what} ({detail}). The figures shown are the last measured; no alert fires or "
            "resolves until it answers again.",
        )
    if slo.data_status == DataStatus.LOW_TRAFFIC:
        return StatusMessage(
            "warn",
            f"Low traffic since {since}: {slo.data_status_detail}. One bad event among so few "
            "would page; the alerts whose long window is short of events are held back (set "
            "the minimum events of the SLO to change it, 0 to turn the guard off).",
        )
    if slo.data_status == DataStatus.NO_DATA:
        return StatusMessage(
            "warn",
            f"No data since {since}: the SLI's query ({what_measures(slo)}) gives no events (or "
            f"fewer than two samples) in the window. Check it in {source}; missing data is never "
            "counted as good and never pages."
            + (f" {slo.data_status_detail}." if slo.data_status_detail else ""),
        )
    return None


def what_measures(slo: SLO) -> str:
    return slo.total_query or slo.ratio_query or slo.threshold_query


PATHS = {
    EvaluationPath.EXACT: "SSOps counts the increases of the counters itself (batched with the "
    "SLOs that share their metrics)",
    EvaluationPath.PROMQL: "Prometheus evaluates the SLI's own expressions over each window "
    "({{.window}} filled in), one query per distinct expression and window",
}


@login_required
def slo_list(request):
    visible = slo_with_latest(slo_visible(user=request.user))
    filterset = SLOFilterSet(request.GET, queryset=visible)
    slos = list(slo_listing_order(filterset.qs)[:LIST_LIMIT])
    return render(
        request,
        "slo/slo_list.html",
        {
            "filterset": filterset,
            "slos": slos,
            "filtered": any(request.GET.values()),
            "truncated": len(slos) == LIST_LIMIT,
            "anything_visible": bool(slos) or visible.exists(),
            "can_create": slo_can_create(user=request.user),
        },
    )


@dataclass
class BurnRow:
    window: str
    rate: float | None
    checks: list[tuple[str, float, bool]]  # (severity and pair, threshold, above)


def burn_rows(slo: SLO, burn_rates: dict) -> list[BurnRow]:
    thresholds = maths.alert_thresholds(slo.window().period_seconds)
    rows = []
    for window in maths.BURN_WINDOWS:
        rate = burn_rates.get(window)
        checks = [
            (f"{a.severity} {a.long_window}/{a.short_window}", a.burn_rate_threshold)
            for a in thresholds
            if window in (a.long_window, a.short_window)
        ]
        rows.append(
            BurnRow(window, rate, [(n, t, rate is not None and rate > t) for n, t in checks])
        )
    return rows


@login_required
def slo_detail(request, key: str):
    slo = slo_get_visible(user=request.user, key=key)
    latest = slo.snapshots.order_by("-at").first()
    history = slo_history(slo=slo)
    groups = slo_groups(slo=slo, user=request.user) if slo.is_grouped else []
    now = timezone.now()
    since = history[0][0] if history else now - timedelta(days=1)
    windows = slo_maintenance(slo=slo, since=since, until=now + MAINTENANCE_AHEAD)
    charts = slo_charts(slo, history, maintenance=windows) if history else None
    return render(
        request,
        "slo/slo_detail.html",
        {
            "slo": slo,
            "latest": latest,
            "message": status_message(slo),
            "charts": charts,
            "freeze": service_freeze(service=slo.service, now=now),
            "maintenance": windows,
            "burns": burn_rows(slo, latest.burn_rates if latest else {}),
            "states": {s.severity: s for s in slo.alert_states.all()},
            "events": slo_alert_events(slo=slo),
            "can_edit": slo_can_edit(user=request.user, team_id=slo.team_id) and not slo.is_group,
            "groups": groups[:LIST_LIMIT],
            "more_groups": max(0, len(groups) - LIST_LIMIT),
            "path": PATHS.get(slo.evaluation, ""),
        },
    )


def _editable(request, key: str | None) -> SLO | None:
    """The SLO being edited (None for a new one): 404 when the caller may not see it, 403 when
    they may not change it (platform admins and the team's admins do)."""
    if key is None:
        if not slo_can_create(user=request.user):
            raise PermissionDenied("Platform admins and team admins write SLOs.")
        return None
    slo = slo_get_visible(user=request.user, key=key)
    if slo.is_group or not slo_can_edit(user=request.user, team_id=slo.team_id):
        raise PermissionDenied("Platform admins and the owner team's admins change this SLO.")
    return slo


@login_required
def slo_edit(request, key: str | None = None):
    """Create or change an SLO; "Backtest" replays the SLO as edited over its history and
    shows the alerts it would have raised, before anything is saved."""
    slo = _editable(request, key)
    form = SLOEditForm(request.POST or None, instance=slo or SLO(), user=request.user)
    report, problem = None, ""
    if request.method == "POST" and form.is_valid():
        edited = form.instance
        service = form.cleaned_data["service_name"]
        if request.POST.get("action") == "save":
            try:
                saved = slo_save(actor=request.user, slo=edited, service_name=service)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, f"SLO {saved.name} saved.")
                return redirect("slo:slo-detail", key=saved.name)
        else:
            days = form.cleaned_data.get("days") or DEFAULT_DAYS
            at = (form.cleaned_data.get("until") or timezone.now()).replace(second=0, microsecond=0)
            try:
                report = slo_backtest_draft(slo=edited, service_name=service, days=days, at=at)
            except ValidationError as exc:
                form.add_error(None, exc)
            except BacktestError as exc:
                problem = str(exc)
    context = {
        "form": form,
        "slo": slo,
        "report": report,
        "problem": problem,
        "chart": backtest_chart(report) if report and report.backtest.budget_left else None,
    }
    return render(request, "slo/slo_edit.html", context)


@login_required
def maintenance_list(request):
    """Planned maintenance of the services the caller may see, and a form to plan more (team
    admins ahead of time; platform admins also afterwards, with a reason)."""
    user = request.user
    visible = slo_visible(user=user)
    services = Service.objects.filter(pk__in=visible.values("service_id")).order_by("name")
    form = MaintenanceForm(
        request.POST or None,
        services=services,
        slos=visible.filter(parent=None).order_by("name"),
    )
    if request.method == "POST" and request.POST.get("delete"):
        adjustment = get_object_or_404(adjustments_visible(user=user), name=request.POST["delete"])
        try:
            adjustment_delete(
                actor=user, adjustment=adjustment, reason=request.POST.get("reason", "")
            )
        except (PermissionDenied, ValidationError) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        else:
            messages.success(request, f"Maintenance {adjustment.name} removed.")
        return redirect("slo:maintenance-list")
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            created = adjustment_create(
                actor=user,
                service=data["service"],
                slo=data["slo"],
                name=data["name"],
                first_start=data["first_start"],
                duration=timedelta(minutes=data["minutes"]),
                rrule=data["rrule"],
                description=data["description"],
                reason=data["reason"],
            )
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Maintenance {created.name} planned.")
            return redirect("slo:maintenance-list")
    now = timezone.now()
    rows = [
        (adjustment, adjustment.schedule().next_window(now))
        for adjustment in adjustments_visible(user=user)
    ]
    return render(request, "slo/maintenance_list.html", {"form": form, "rows": rows})


@cache
def _plotly() -> tuple[bytes, bytes, str]:
    spec = importlib.util.find_spec("plotly")
    path = Path(spec.origin).parent / "package_data" / "plotly.min.js"
    raw = path.read_bytes()
    return raw, gzip.compress(raw, 6), '"' + hashlib.sha256(raw).hexdigest()[:20] + '"'


@login_required
@require_GET
def plotly_js(request):
    """Plotly's JS from the installed plotly package, served by SSOps itself (no CDN)."""
    raw, zipped, etag = _plotly()
    if request.headers.get("If-None-Match") == etag:
        return HttpResponseNotModified()
    use_gzip = "gzip" in request.headers.get("Accept-Encoding", "")
    response = HttpResponse(zipped if use_gzip else raw, content_type="text/javascript")
    if use_gzip:
        response["Content-Encoding"] = "gzip"
    response["Vary"] = "Accept-Encoding"
    response["Cache-Control"] = "private, max-age=86400"
    response["ETag"] = etag
    return response
