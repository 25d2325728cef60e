"""SLO pages: the list with budget and burn, the detail with charts, burn rates and alert history.
Each reads stored evaluations only; empty and error states say what to do."""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseNotModified
from django.shortcuts import render
from django.views.decorators.http import require_GET

from slo import maths
from slo.choices import DataStatus, EvaluationPath
from slo.filtersets import SLOFilterSet
from slo.models import SLO
from slo.selectors import (
    slo_alert_events,
    slo_can_edit,
    slo_get_visible,
    slo_groups,
    slo_history,
    slo_listing_order,
    slo_visible,
    slo_with_latest,
)

LIST_LIMIT = 500


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
    from slo.charts import slo_charts

    slo = slo_get_visible(user=request.user, key=key)
    latest = slo.snapshots.order_by("-at").first()
    history = slo_history(slo=slo)
    groups = slo_groups(slo=slo, user=request.user) if slo.is_grouped else []
    return render(
        request,
        "slo/slo_detail.html",
        {
            "slo": slo,
            "latest": latest,
            "message": status_message(slo),
            "charts": slo_charts(slo, history) if history else None,
            "burns": burn_rows(slo, latest.burn_rates if latest else {}),
            "states": {s.severity: s for s in slo.alert_states.all()},
            "events": slo_alert_events(slo=slo),
            "can_edit": slo_can_edit(user=request.user, team_id=slo.team_id) and not slo.is_group,
            "groups": groups[:LIST_LIMIT],
            "more_groups": max(0, len(groups) - LIST_LIMIT),
            "path": PATHS.get(slo.evaluation, ""),
        },
    )


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
