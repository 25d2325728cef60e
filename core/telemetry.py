"""OpenTelemetry tracing for Django and Celery; the exporter is chosen by OTEL_TRACES_EXPORTER.

none (default): spans are made (so logs and audit rows carry trace ids) but not exported;
console: printed; otlp: sent to OTEL_EXPORTER_OTLP_ENDPOINT; db: stored as TraceSpan rows for the
debug dashboard.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from django.conf import settings
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SpanExporter,
    SpanExportResult,
)

logger = logging.getLogger(__name__)
_configured = False
EXCLUDED_URLS = "healthz,metrics,static/"
REQUEST_TARGET_MIDDLEWARE = "core.telemetry.RequestTargetMiddleware"


class RequestTargetMiddleware:
    """Give the request target (path and query, percent-encoded) to the tracing middleware,
    which runs right after this one.

    gunicorn passes the target as the client sent it (RAW_URI, REQUEST_URI); the development
    server does not, and OpenTelemetry then rebuilds the URL from PATH_INFO with
    `wsgiref.util.request_uri`, which encodes it as Latin-1. Django has by then replaced
    PATH_INFO with the decoded path, so a path with a character outside Latin-1 raised
    UnicodeEncodeError: a 500 before any view ran, and no span."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "RAW_URI" not in request.META:
            request.META.setdefault("REQUEST_URI", request.get_full_path())
        return self.get_response(request)


def _when(ns: int | None) -> datetime:
    return datetime.fromtimestamp((ns or 0) / 1e9, tz=UTC)


def _attributes(span: ReadableSpan) -> dict:
    """JSON-safe attributes (OpenTelemetry values are scalars or sequences of scalars)."""
    return {
        key: value if isinstance(value, str | int | float | bool) else list(value)  # type: ignore[arg-type]
        for key, value in (span.attributes or {}).items()
    }


class DatabaseSpanExporter(SpanExporter):
    """Writes finished spans to TraceSpan in batches (called from the batch processor's thread)."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        from django.db import connection

        from core.models import TraceSpan

        rows = []
        for span in spans:
            ctx = span.get_span_context()
            if ctx is None:
                continue
            rows.append(
                TraceSpan(
                    trace_id=format(ctx.trace_id, "032x"),
                    span_id=format(ctx.span_id, "016x"),
                    parent_id=format(span.parent.span_id, "016x") if span.parent else "",
                    name=span.name[:255],
                    kind=span.kind.name,
                    service=str(span.resource.attributes.get("service.name", "ssops"))[:64],
                    start=_when(span.start_time),
                    end=_when(span.end_time),
                    duration_ms=((span.end_time or 0) - (span.start_time or 0)) / 1e6,
                    status=span.status.status_code.name,
                    attributes=_attributes(span),
                )
            )
        try:
            TraceSpan.objects.bulk_create(rows, ignore_conflicts=True)
        except Exception:  # a lost span must never break the request that made it
            logger.exception("could not store %d spans", len(rows))
            if not connection.in_atomic_block:
                connection.close()  # the exporter thread reconnects on its next batch
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS


def _exporter(name: str) -> SpanExporter | None:
    if name == "console":
        return ConsoleSpanExporter()
    if name == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    if name == "db":
        return DatabaseSpanExporter()
    return None


def setup(service_name: str = "ssops") -> None:
    """Install the tracer provider and instrument Django and Celery once per process."""
    global _configured
    if _configured:
        return
    _configured = True
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    exporter = _exporter(settings.TRACES_EXPORTER)
    if exporter is not None:
        provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=1000))
    trace.set_tracer_provider(provider)

    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.django import DjangoInstrumentor

    middleware = list(settings.MIDDLEWARE)
    after_target = (
        middleware.index(REQUEST_TARGET_MIDDLEWARE) + 1
        if REQUEST_TARGET_MIDDLEWARE in middleware
        else 0
    )
    DjangoInstrumentor().instrument(excluded_urls=EXCLUDED_URLS, middleware_position=after_target)
    CeleryInstrumentor().instrument()


def tracer() -> trace.Tracer:
    return trace.get_tracer("ssops")
