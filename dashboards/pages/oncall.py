"""The on-call dashboard: what is burning, since when, and what to do — refreshed by itself."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils import timezone

from core.badges import badge
from core.jobs import job_runs_overview
from dashboards import charts
from dashboards.formatting import burn, duration, percent
from dashboards.pages import guardrails
from dashboards.pages.base import Page, request_cell
from dashboards.selectors import common, oncall, runs
from dashboards.selectors.slos import source_problems
from dashboards.tables import Table, cell, when
from provisioning.models import Runbook
from provisioning.services.runbooks import can_run
from slo.models import AlertState

# The short and long windows of the page and ticket alerts, shown as columns here.
SHOWN_BURN_WINDOWS = ("5m", "1h", "6h", "3d")


def oncall_page(*, user) -> Page:
    scope = common.scope_of(user)
    now = timezone.now()
    page = Page("On-call dashboard", "oncall")
    page.context.update(scope=scope, now=now)
    alerts = list(oncall.firing_alerts(user=user))
    _alerts(page, alerts)
    _incidents(page, oncall.open_incidents(scope=scope))
    _runbook_actions(page, alerts, user)
    page.context["source_problems"] = source_problems(user=user)
    _api(page, oncall.api_health(now=now))
    _queue(page, runs.provisioning_queue(scope=scope))
    _failures(page, runs.failed_runs(scope=scope))
    _denies(page, oncall.recent_denies(scope=scope))
    guardrails.oncall_sections(page, user=user, now=now)
    if scope.everything:
        _jobs(page, job_runs_overview(now=now))
    return page


def _alerts(page: Page, alerts) -> None:
    page.context["alerts"] = alerts
    page.context["pages_firing"] = sum(1 for a in alerts if a.severity == "page")
    table = page.add_table(
        Table(
            "firing-alerts",
            "Firing alerts, pages first, oldest first: burn rates, budget left and time until it "
            "is gone at the 1h burn",
            [
                "severity",
                "SLO",
                "team",
                "since",
                *(f"burn {w}" for w in SHOWN_BURN_WINDOWS),
                "windows",
                "budget left",
                "exhausted in",
                "runbook",
            ],
            empty="Nothing is burning: no page or ticket alert fires for the SLOs you see.",
        )
    )
    for alert in alerts:
        slo, rates = alert.slo, alert.latest_burn_rates or {}
        table.rows.append(
            [
                cell(alert.severity, badge="bad" if alert.severity == "page" else "warn"),
                cell(slo.name, href=reverse("dashboards:slo", args=[slo.name])),
                cell(slo.team.slug),
                when(alert.since),
                *(cell(rates.get(w), burn(rates.get(w))) for w in SHOWN_BURN_WINDOWS),
                cell(", ".join(alert.windows)),
                cell(alert.latest_budget, percent(alert.latest_budget, 1)),
                cell(alert.latest_exhaustion, duration(alert.latest_exhaustion)),
                cell(
                    slo.runbook_url or None,
                    "open runbook" if slo.runbook_url else "—",
                    href=slo.runbook_url,
                ),
            ]
        )
    if alerts:
        names = [f"{a.slo.name} ({a.severity})" for a in alerts]
        figure = charts.figure(
            "Burn rate of each firing alert, per window",
            [
                {
                    "type": "bar",
                    "name": window,
                    "x": names,
                    "y": [(a.latest_burn_rates or {}).get(window) for a in alerts],
                }
                for window in SHOWN_BURN_WINDOWS
            ],
            barmode="group",
            hovermode="closest",
            yaxis={"title": {"text": "burn rate (×)"}, "rangemode": "tozero"},
        )
        summary = "; ".join(
            f"{a.slo.name}: "
            + ", ".join(
                f"{w} {burn((a.latest_burn_rates or {}).get(w))}" for w in SHOWN_BURN_WINDOWS
            )
            for a in alerts
        )
        page.add_chart(
            charts.Chart("alert-burn", "Burn rates of firing alerts", figure, summary[:1000])
        )


def _incidents(page: Page, incidents) -> None:
    page.context["incidents"] = incidents
    table = page.add_table(
        Table(
            "open-incidents",
            "Open incidents, most severe first: who owns them and what they concern",
            [
                "severity",
                "incident",
                "team",
                "owner",
                "impact began",
                "acknowledged",
                "SLOs",
                "requests",
            ],
            empty="No open incident. On-call opens one at /incidents/ when something is wrong.",
        )
    )
    for incident in incidents:
        table.rows.append(
            [
                cell(incident.severity, incident.severity.upper(), badge=badge(incident.severity)),
                cell(
                    incident.title,
                    href=reverse("metrics:incident-detail", args=[incident.uuid]),
                ),
                cell(incident.team.slug if incident.team else None),
                cell(incident.owner.get_username() if incident.owner else None),
                when(incident.started_at),
                when(incident.acknowledged_at),
                cell(", ".join(slo.name for slo in incident.slos.all()) or None),
                cell(", ".join(str(r.uuid)[:8] for r in incident.requests.all()) or None),
            ]
        )


@dataclass
class RunbookAction:
    alert: AlertState
    runbook: Runbook
    params: dict[str, str]
    allowed: bool  # the caller may run it (on-call, platform admins, the team's members)


def _runbook_actions(page: Page, alerts: list[AlertState], user) -> None:
    """A "Run" button for each firing alert whose SLO's runbook URL names an SSOps runbook
    (…/runbooks/<slug>/?param=value), with the parameters the URL gives."""
    found = runs.runbooks_for([alert.slo.runbook_url for alert in alerts])
    page.context["runbook_actions"] = [
        RunbookAction(alert, *found[alert.slo.runbook_url], can_run(user, alert.slo.team))
        for alert in alerts
        if alert.slo.runbook_url in found
    ]


def _api(page: Page, health: oncall.ApiHealth) -> None:
    page.context["api"] = health
    page.context["api_error_rate"] = rate = health.last("error_rate")
    page.context["api_error_text"] = percent(rate, 2)
    page.add_chart(
        charts.time_lines(
            "api-errors",
            "SSOps API requests and error rate per 5 minutes",
            health.buckets,
            {
                "requests": (health.requests, {"color": charts.ACCENT}),
                "error rate": (health.error_rate, {"color": charts.BAD, "dash": "dot"}),
            },
            yaxis={"title": {"text": "requests"}, "rangemode": "tozero"},
        )
    )
    chart = page.charts["api_errors"]
    chart.figure["data"][1]["yaxis"] = "y2"
    charts.share_axis(chart.figure, "5xx share", ".1%")
    page.add_chart(
        charts.time_lines(
            "api-latency",
            "SSOps API latency per 5 minutes (from stored traces)",
            health.buckets,
            {
                "p50": (health.p50_ms, {"color": charts.OK}),
                "p95": (health.p95_ms, {"color": charts.WARN}),
            },
            yaxis={"title": {"text": "ms"}, "rangemode": "tozero"},
        )
    )
    table = page.add_table(
        Table(
            "api",
            "SSOps API per 5 minutes over the last three hours",
            ["from", "requests", "5xx share", "p50 ms", "p95 ms"],
            collapsed=True,
            empty="",  # the section says why there is nothing
        )
    )
    for i, bucket in enumerate(health.buckets):
        if not health.requests[i] and health.p50_ms[i] is None:
            continue
        table.rows.append(
            [
                when(bucket, "%H:%M"),
                cell(health.requests[i]),
                cell(health.error_rate[i], percent(health.error_rate[i], 2)),
                cell(_ms(health.p50_ms[i])),
                cell(_ms(health.p95_ms[i])),
            ]
        )


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _queue(page: Page, queue: runs.Queue) -> None:
    page.context["queue"] = queue
    table = page.add_table(
        Table(
            "provisioning-queue",
            "Provisioning queue: approved requests not yet handed to the provisioner, and the "
            "runs it has open, by kind and state",
            ["what", "state", "count"],
        )
    )
    table.rows.append([cell("approved requests"), cell("waiting"), cell(queue.waiting)])
    for (kind, state), count in queue.runs.items():
        table.rows.append([cell(f"{kind} runs"), cell(state), cell(count)])


def _failures(page: Page, failed) -> None:
    table = page.add_table(
        Table(
            "failed-runs",
            "Failed runs, newest first, with the step that failed: open the request to see "
            "where and why",
            ["finished", "kind", "what", "team", "state", "failed step", "error", "request"],
            empty="No provisioning or runbook run has failed.",
        )
    )
    for run in failed:
        item, runbook_run = run.request, getattr(run, "runbook_run", None)
        team = item.team if item else (runbook_run.team if runbook_run else None)
        step = run.failed_step
        link = (
            reverse("provisioning:runbook-run-detail", args=[runbook_run.uuid])
            if runbook_run
            else ""
        )
        table.rows.append(
            [
                when(run.finished_at),
                cell(run.kind),
                cell(run.template, href=link),
                cell(team.slug if team else None),
                cell(run.state, badge="bad"),
                cell(f"{step.position}. {step.name or step.step_id}" if step else None),
                cell((step.error if step else "") or run.error or None),
                request_cell(item.uuid if item else None),
            ]
        )


def _denies(page: Page, denies) -> None:
    table = page.add_table(
        Table(
            "policy-denies",
            "Recent policy denies, newest first",
            ["at", "policy", "version", "mode", "team", "request", "reasons"],
            empty="No policy has denied a request.",
        )
    )
    for decision in denies:
        item = decision.request
        table.rows.append(
            [
                when(decision.created_at),
                cell(decision.policy_version.policy.slug),
                cell(decision.policy_version.number),
                cell(decision.mode),
                cell(item.team.slug if item else None),
                request_cell(item.uuid if item else None),
                cell("; ".join(decision.deny) or decision.error),
            ]
        )


def _jobs(page: Page, jobs: list[dict]) -> None:
    now = page.context["now"]
    table = page.add_table(
        Table(
            "beat-jobs",
            "Beat jobs: the last run of each, the last success and the failures of the last "
            "24 hours",
            [
                "job",
                "last run",
                "outcome",
                "took ms",
                "last success",
                "failures 24h",
                "running",
                "error",
            ],
            empty="No beat job has run yet: start a Celery worker with -B (./run demo does).",
        )
    )
    for job in jobs:
        outcome = job.get("last_outcome") or "never ran"
        badge = {"ok": "ok", "failed": "bad", "skipped": "warn"}.get(outcome, "warn")
        stale = job.get("last_ok") is None or (now - job["last_ok"]).total_seconds() > 86400
        table.rows.append(
            [
                cell(job["name"], mono=True),
                when(job.get("last_started")),
                cell(outcome, badge=badge),
                cell(_ms(job.get("last_duration_ms"))),
                cell(
                    job["last_ok"].isoformat() if job.get("last_ok") else None,
                    job["last_ok"].strftime("%Y-%m-%d %H:%M") if job.get("last_ok") else "never",
                    badge="warn" if stale else "",
                ),
                cell(job["failures_24h"], badge="bad" if job["failures_24h"] else ""),
                cell("yes" if job["running"] else "no"),
                cell(job.get("last_error") or None),
            ]
        )
    page.context["jobs_failing"] = sum(1 for j in jobs if j.get("last_outcome") == "failed")
    page.context["jobs_never_ran"] = sum(1 for j in jobs if j.get("last_started") is None)
