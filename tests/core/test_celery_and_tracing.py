"""The beat schedule is complete and safe; spans can be stored for the debug dashboard."""

import pytest
from celery.schedules import crontab, schedule
from opentelemetry import trace
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from core.models import TraceSpan
from core.telemetry import DatabaseSpanExporter
from ssops_site.celery import app


def _period_seconds(entry) -> float:
    """Seconds between two consecutive runs of a beat entry (crontab or interval)."""
    every = entry["schedule"]
    if isinstance(every, crontab):
        start, delta, _ = every.remaining_delta(every.now())
        first = start + delta
        start, delta, _ = every.remaining_delta(first)
        return (start + delta - first).total_seconds()
    if isinstance(every, schedule):
        return every.run_every.total_seconds()
    return float(every)


def test_every_beat_job_names_a_registered_task_and_expires_before_its_next_run():
    app.loader.import_default_modules()
    assert app.conf.beat_schedule, "the beat schedule is empty"
    for name, entry in app.conf.beat_schedule.items():
        assert entry["task"] in app.tasks, f"{name}: task {entry['task']} is not registered"
        expires = entry.get("options", {}).get("expires")
        assert expires, f"{name}: set options.expires so a backlog never piles up"
        assert expires <= _period_seconds(entry), f"{name}: expires after its next run"


class _Switchable(SimpleSpanProcessor):
    """The global tracer provider keeps its processors for the whole session: this one only
    exports while a test has switched it on."""

    enabled = False

    def on_end(self, span):
        if self.enabled:
            super().on_end(span)


_processor = _Switchable(DatabaseSpanExporter())
trace.get_tracer_provider().add_span_processor(_processor)


@pytest.fixture
def stored_spans():
    _processor.enabled = True
    yield
    _processor.enabled = False


@pytest.mark.django_db
def test_a_requests_spans_are_stored_with_its_trace_id(client, alice, stored_spans):
    client.force_login(alice)
    client.get("/audit/", headers={"X-Request-ID": "trace-me"})
    spans = list(TraceSpan.objects.all())
    assert spans, "no span was stored"
    server = next(s for s in spans if s.kind == "SERVER")
    assert len(server.trace_id) == 32 and server.duration_ms > 0
    assert (
        server.attributes.get("http.method") == "GET"
        or server.attributes.get("http.request.method") == "GET"
    )


@pytest.mark.django_db
def test_health_and_metrics_requests_are_not_traced(client, stored_spans):
    client.get("/healthz")
    client.get("/metrics")
    assert not TraceSpan.objects.filter(kind="SERVER").exists()
