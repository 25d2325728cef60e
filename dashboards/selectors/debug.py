"""Reads of the debug dashboard of one request: its audit events with their links in the chain
checked, the traces those events name (spans stored from OpenTelemetry) and its timeline."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from django.conf import settings
from django.shortcuts import get_object_or_404

from audit import chain
from audit.models import AuditCheckpoint, AuditEvent
from audit.selectors import object_types
from catalog.models import Request
from catalog.selectors import request_list_visible
from core.models import TraceSpan
from dashboards.selectors.common import scope_of
from provisioning.models import ProvisioningRun, RunStep

MAX_EVENTS = 500
MAX_SPANS = 2_000


def debug_request(*, user, uuid) -> Request:
    """The request if the caller may see it: their teams' and their own; on-call, executives
    and platform admins see every request (on-call debugs what failed); 404 otherwise."""
    requests = request_list_visible(user=user)
    if scope_of(user).everything:
        requests = Request.objects.select_related("team", "requester", "template_version__template")
    return get_object_or_404(requests, uuid=uuid)


@dataclass
class CheckedEvent:
    event: AuditEvent
    content_ok: bool
    link_ok: bool
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.content_ok and self.link_ok


@dataclass
class AuditTrail:
    events: list[CheckedEvent] = field(default_factory=list)
    checkpoint: AuditCheckpoint | None = None
    checkpoint_ok: bool | None = None  # None: no signed checkpoint covers these events yet
    truncated: bool = False

    @property
    def ok(self) -> bool:
        return all(e.ok for e in self.events) and self.checkpoint_ok is not False

    @property
    def trace_ids(self) -> list[str]:
        return list(dict.fromkeys(e.event.trace_id for e in self.events if e.event.trace_id))


def audit_trail(*, request: Request, runs: list | None = None) -> AuditTrail:
    """The audit events of the request and of its runs and their steps, in chain order, each
    checked where it stands: its content
    still hashes to its hash, and it links to the event stored just before it. The first
    signed checkpoint at or after the last of them must verify and match the chain there.
    Three indexed queries, whatever the size of the store."""
    objects = {str(request.uuid)}
    for run in runs or []:
        objects.add(str(run.uuid))
        objects.update(str(step.uuid) for step in run.steps.all())
    types = [t for model in (Request, ProvisioningRun, RunStep) for t in object_types(model)]
    events = list(
        AuditEvent.objects.filter(object_type__in=types, object_id__in=objects)
        .order_by("seq")
        .only("seq", "body", "prev_hash", "hash", "uuid", "ts", "actor_name", "action", "trace_id")[
            : MAX_EVENTS + 1
        ]
    )
    trail = AuditTrail(truncated=len(events) > MAX_EVENTS)
    events = events[:MAX_EVENTS]
    if not events:
        return trail
    wanted = {e.seq - 1 for e in events} | {e.seq for e in events}
    checkpoint = AuditCheckpoint.objects.filter(size__gte=events[-1].seq).order_by("size").first()
    if checkpoint is not None:
        wanted.add(checkpoint.size)
    hashes = dict(AuditEvent.objects.filter(seq__in=wanted).values_list("seq", "hash"))
    hashes[0] = chain.GENESIS
    for event in events:
        content_ok = chain.link_hash(event.prev_hash, event.body) == event.hash
        before = hashes.get(event.seq - 1)
        link_ok = before is not None and before == event.prev_hash
        problem = ""
        if not content_ok:
            problem = "its content no longer matches its hash: it was changed"
        elif before is None:
            problem = f"the event before it (seq {event.seq - 1}) is missing"
        elif not link_ok:
            problem = f"it does not link to the event stored before it (seq {event.seq - 1})"
        trail.events.append(CheckedEvent(event, content_ok, link_ok, problem))
    if checkpoint is not None:
        signature = chain.sign_checkpoint(
            settings.AUDIT_HMAC_KEY, checkpoint.size, checkpoint.head_hash, checkpoint.signed_at
        )
        trail.checkpoint = checkpoint
        trail.checkpoint_ok = hmac.compare_digest(signature, checkpoint.signature) and (
            hashes.get(checkpoint.size) == checkpoint.head_hash
        )
    return trail


@dataclass(frozen=True)
class Span:
    """One bar of the waterfall: a stored OpenTelemetry span, or a timing SSOps recorded
    itself (a policy evaluation, a provisioning step's backend call)."""

    name: str
    layer: str
    start: datetime
    duration_ms: float
    status: str
    source: str  # "OpenTelemetry", "policy decision" or "run step"
    kind: str = ""
    service: str = ""
    trace_id: str = ""
    depth: int = 0
    offset_ms: float = 0.0

    @property
    def end(self) -> datetime:
        return self.start + timedelta(milliseconds=self.duration_ms)


LAYERS = ("web", "policy", "Celery", "backend", "database", "other")
OTEL, DECISION, STEP = "OpenTelemetry", "policy decision", "run step"


def span_layer(span: TraceSpan) -> str:
    """What part of SSOps a span stands for: the web request, a policy evaluation, a Celery step,
    a call to a backend (Kubernetes, PostgreSQL, a webhook…) or a database query."""
    attributes = span.attributes or {}
    name = span.name.lower()
    if "db.system" in attributes and not attributes.get("ssops.backend"):
        return "database"
    if name.startswith("policy") or "policy" in attributes.get("ssops.layer", ""):
        return "policy"
    if span.kind == "SERVER":
        return "web"
    if span.kind in ("CONSUMER", "PRODUCER") or any(k.startswith("celery") for k in attributes):
        return "Celery"
    if span.kind == "CLIENT" or attributes.get("ssops.backend"):
        return "backend"
    return "other"


def _traced(trace_ids: list[str]) -> list[Span]:
    """The stored spans of the traces, each at its depth under its parent (one query on the
    trace index)."""
    if not trace_ids:
        return []
    spans = list(TraceSpan.objects.filter(trace_id__in=trace_ids).order_by("start")[:MAX_SPANS])
    by_id = {(s.trace_id, s.span_id): s for s in spans}
    depths: dict[tuple[str, str], int] = {}

    def depth(span: TraceSpan) -> int:
        key = (span.trace_id, span.span_id)
        if key not in depths:
            parent = by_id.get((span.trace_id, span.parent_id))
            depths[key] = 0  # guards against a cycle in corrupt data
            depths[key] = depth(parent) + 1 if parent is not None else 0
        return depths[key]

    return [
        Span(
            s.name,
            span_layer(s),
            s.start,
            s.duration_ms,
            s.status,
            OTEL,
            kind=s.kind,
            service=s.service,
            trace_id=s.trace_id,
            depth=depth(s),
        )
        for s in spans
    ]


def _recorded(request: Request, runs: list) -> list[Span]:
    """Timings SSOps keeps besides traces: each policy evaluation (its stored latency, ending
    when the decision was stored) and each attempt-bearing step of the runs (its backend call,
    from start to finish). One query for the decisions; the steps come with the runs."""
    decisions = request.decisions.select_related("policy_version__policy").order_by("id")
    found = [
        Span(
            f"policy {d.policy_version.policy.slug} v{d.policy_version.number}: {d.outcome}",
            "policy",
            d.created_at - timedelta(milliseconds=d.latency_ms),
            d.latency_ms,
            "ERROR" if d.outcome == "error" else "OK",
            DECISION,
        )
        for d in decisions
    ]
    for run in runs:
        for step in run.steps.all():
            if step.started_at is None:
                continue
            took = step.duration_ms
            if took is None:
                took = (
                    (step.finished_at or step.started_at) - step.started_at
                ).total_seconds() * 1e3
            found.append(
                Span(
                    f"{step.operation} {step.action} ({step.name or step.step_id})",
                    "backend",
                    step.started_at,
                    took,
                    "ERROR" if step.state == "failed" else "OK",
                    STEP,
                )
            )
    return found


def trace_waterfall(*, trace_ids: list[str], request: Request, runs: list) -> list[Span]:
    """The request's stored spans, and its recorded policy and step timings nested under the
    span whose time holds them, in start order with their start relative to the first."""
    traced = _traced(trace_ids)
    recorded = [
        replace(item, depth=1 + max((t.depth for t in traced if _holds(t, item)), default=-1))
        for item in _recorded(request, runs)
    ]
    spans = sorted(traced + recorded, key=lambda s: (s.start, s.depth))
    if not spans:
        return []
    origin = spans[0].start
    return [replace(s, offset_ms=(s.start - origin).total_seconds() * 1000) for s in spans]


def _holds(outer: Span, inner: Span) -> bool:
    return outer.start <= inner.start and inner.end <= outer.end
