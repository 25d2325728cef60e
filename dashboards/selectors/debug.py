"""Reads of the debug dashboard of one request: its audit events with their links in the chain
checked, the traces those events name (spans stored from OpenTelemetry) and its timeline."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field

from django.conf import settings
from django.shortcuts import get_object_or_404

from audit import chain
from audit.models import AuditCheckpoint, AuditEvent
from catalog.models import Request
from catalog.selectors import request_list_visible
from dashboards.selectors.common import scope_of
from ssops_site.models import TraceSpan

MAX_EVENTS = 500
OBJECT_TYPES = ("catalog.request", "catalog.provisioningrun", "catalog.runstep")
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
    events = list(
        AuditEvent.objects.filter(object_type__in=OBJECT_TYPES, object_id__in=objects)
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
    span: TraceSpan
    depth: int
    offset_ms: float
    layer: str


LAYERS = ("web", "policy", "Celery", "backend", "database", "other")


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


def trace_waterfall(*, trace_ids: list[str]) -> list[Span]:
    """The spans of the given traces in start order, each with its depth under its parent and
    its start relative to the first span (one query on the trace index)."""
    if not trace_ids:
        return []
    spans = list(TraceSpan.objects.filter(trace_id__in=trace_ids).order_by("start")[:MAX_SPANS])
    if not spans:
        return []
    origin = spans[0].start
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
        Span(s, depth(s), (s.start - origin).total_seconds() * 1000, span_layer(s)) for s in spans
    ]
