"""The debug dashboard of one request: where it went and why, from its stored traces, its
timeline and its audit events (each checked in the hash chain)."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from catalog.models import Request
from catalog.selectors import request_timeline
from dashboards import charts
from dashboards.pages.base import Page
from dashboards.selectors import debug, runs
from dashboards.tables import Table, cell, when

STATE_COLOURS = {
    "ready": charts.OK,
    "succeeded": charts.OK,
    "running": charts.ACCENT,
    "retrying": charts.WARN,
    "compensating": charts.WARN,
    "approved": charts.OK,
    "failed": charts.BAD,
    "rolled_back": charts.BAD,
    "denied": charts.BAD,
    "rejected": charts.BAD,
    "pending_approval": charts.WARN,
    "provisioning": charts.ACCENT,
}


def debug_page(*, request: Request) -> Page:
    page = Page(f"Debug {request.uuid}", f"debug-{request.uuid}")
    page.context.update(item=request, state_badge=_badge(request.state))
    found = runs.request_runs(request=request)
    trail = debug.audit_trail(request=request, runs=found)
    _audit(page, trail)
    spans = debug.trace_waterfall(trace_ids=trail.trace_ids, request=request, runs=found)
    _trace(page, spans, trail)
    _timeline(page, request)
    _steps(page, request, found)
    return page


def _audit(page: Page, trail: debug.AuditTrail) -> None:
    page.context["trail"] = trail
    table = page.add_table(
        Table(
            "audit-events",
            "The request's audit events in chain order, each checked where it stands: its "
            "content still matches its hash and it links to the event stored before it",
            ["seq", "time", "actor", "action", "trace", "hash", "chain"],
            empty="No audit event names this request.",
        )
    )
    for checked in trail.events:
        event = checked.event
        table.rows.append(
            [
                cell(event.seq, href=reverse("audit:event-detail", args=[event.uuid])),
                cell(event.ts, event.ts[:19].replace("T", " "), mono=True),
                cell(event.actor_name),
                cell(event.action),
                cell(
                    event.trace_id or None, event.trace_id[:8] if event.trace_id else "—", mono=True
                ),
                cell(event.hash, event.hash[:12], mono=True),
                cell(
                    "verified" if checked.ok else checked.problem,
                    "verified" if checked.ok else f"broken: {checked.problem}",
                    badge="ok" if checked.ok else "bad",
                ),
            ]
        )


def _trace(page: Page, spans: list[debug.Span], trail: debug.AuditTrail) -> None:
    page.context["spans"] = spans
    page.context["trace_ids"] = trail.trace_ids
    if spans:
        page.add_chart(charts.waterfall(spans))
    page.context["traced"] = traced = sum(1 for s in spans if s.source == debug.OTEL)
    page.context["recorded"] = len(spans) - traced
    table = page.add_table(
        Table(
            "spans",
            "The waterfall's bars in start order: stored spans, and the timings SSOps recorded "
            "of policy evaluations and run steps",
            [
                "#",
                "span",
                "layer",
                "source",
                "kind",
                "starts at ms",
                "duration ms",
                "status",
                "trace",
            ],
            empty="",
        )
    )
    for index, span in enumerate(spans, start=1):
        table.rows.append(
            [
                cell(index),
                cell(span.name, ("· " * span.depth) + span.name),
                cell(span.layer),
                cell(span.source),
                cell(span.kind or None),
                cell(round(span.offset_ms, 1)),
                cell(round(span.duration_ms, 1)),
                cell(span.status, badge="bad" if span.status == "ERROR" else ""),
                cell(span.trace_id or None, span.trace_id[:8] or "—", mono=True),
            ]
        )


def _timeline(page: Page, request: Request) -> None:
    entries = request_timeline(request=request)
    page.context["timeline"] = entries
    table = page.add_table(
        Table(
            "timeline",
            "The request's timeline: every state it took and every approval",
            ["time", "kind", "state", "by", "why", "audit seq"],
            empty="No transition recorded.",
        )
    )
    for entry in entries:
        table.rows.append(
            [
                when(entry.at, "%Y-%m-%d %H:%M:%S"),
                cell(entry.kind),
                cell(entry.state, badge=_badge(entry.state)),
                cell(entry.actor),
                cell(entry.text or None),
                cell(entry.audit_seq),
            ]
        )
    transitions = [e for e in entries if e.kind == "transition"]
    if transitions:
        now = timezone.now()
        phases = [
            (
                entry.state,
                entry.at,
                transitions[i + 1].at
                if i + 1 < len(transitions)
                else (entry.at if request.is_final else now),
                STATE_COLOURS.get(entry.state, charts.MUTED),
            )
            for i, entry in enumerate(transitions)
        ]
        page.add_chart(charts.timeline("request-timeline", "Time spent in each state", phases))


def _badge(state: str) -> str:
    colour = STATE_COLOURS.get(state)
    return {charts.OK: "ok", charts.BAD: "bad", charts.WARN: "warn"}.get(colour or "", "")


def _steps(page: Page, request: Request, found: list) -> None:
    """Each run's steps on a timeline, with their attempts, durations, waits and logs."""
    page.context.update(runs=found, failed_states=runs.FAILED)
    if not found:
        page.context["steps_message"] = (
            "No provisioning run yet: the provisioner starts one when the request is approved."
            if request.state in ("submitted", "pending_approval", "approved")
            else f"No provisioning run: the request ended {request.get_state_display().lower()} "
            "before provisioning."
        )
        return
    table = page.add_table(
        Table(
            "run-steps",
            "Every step of every run in order: its state, attempts, how long it waited to "
            "start and how long it took",
            [
                "run",
                "#",
                "step",
                "action",
                "operation",
                "state",
                "attempts",
                "started",
                "waited ms",
                "took ms",
                "error",
            ],
        )
    )
    phases, logs, now = [], [], timezone.now()
    for run in found:
        previous = run.started_at or run.created_at
        for step in run.steps.all():
            waited = (
                (step.started_at - previous).total_seconds() * 1000 if step.started_at else None
            )
            previous = step.finished_at or previous
            label = f"{run.kind} {step.position}. {step.name or step.step_id}"
            table.rows.append(
                [
                    cell(run.kind),
                    cell(step.position),
                    cell(step.name or step.step_id),
                    cell(step.action, mono=True),
                    cell(step.operation),
                    cell(step.state, badge=_badge(step.state)),
                    cell(step.attempts),
                    when(step.started_at, "%H:%M:%S"),
                    cell(None if waited is None else round(waited, 1)),
                    cell(None if step.duration_ms is None else round(step.duration_ms, 1)),
                    cell(step.error or None),
                ]
            )
            if step.started_at:
                end = step.finished_at or now
                phases.append(
                    (label, step.started_at, end, STATE_COLOURS.get(step.state, charts.MUTED))
                )
            if step.log:
                logs.append(
                    {"step": step, "label": label, "lines": [_log_line(e) for e in step.log]}
                )
    page.context["step_logs"] = logs
    if phases:
        page.add_chart(charts.timeline("run-steps", "Provisioning steps over time", phases))


def _log_line(entry) -> str:
    if not isinstance(entry, dict):
        return str(entry)
    return (
        f"{str(entry.get('at', ''))[11:23]} {entry.get('level', ''):7} {entry.get('message', '')}"
    )
