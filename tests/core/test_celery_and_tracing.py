"""The beat schedule is complete and safe; spans can be stored for the debug dashboard, and
every request is traced, whatever its path and whichever server runs SSOps."""

import pytest
import requests
from celery.schedules import crontab, schedule
from opentelemetry import trace
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from accounts.services import personal_token_create
from core.models import TraceSpan
from core.telemetry import DatabaseSpanExporter
from ssops_site.celery import app
from tests.helpers import wait_for
from tests.services.web_server import KINDS, WebServer


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


# ¦, U+0082 and U+D4736 in a path: the development server gives OpenTelemetry no request
# target, and rebuilding one from Django's decoded path as Latin-1 failed (a 500, no span).
OUTSIDE_LATIN1 = "/api/teams/\xa6\x82\U000d4736/"
AS_SENT = "/api/teams/%C2%A6%C2%82%F3%94%9C%B6/"


@pytest.mark.django_db
def test_a_path_outside_latin1_is_answered_and_traced(client, alice, stored_spans):
    client.force_login(alice)
    assert client.get(OUTSIDE_LATIN1).status_code == 404
    server = TraceSpan.objects.get(kind="SERVER")
    assert server.attributes["http.target"] == AS_SENT
    assert server.attributes["http.status_code"] == 404


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", KINDS)
def test_each_server_answers_a_path_outside_latin1_and_stores_its_span(kind, tmp_path, alice):
    token = str(personal_token_create(actor=alice, name="trace", scopes=["read"]).key)
    served = WebServer(kind, tmp_path, env={"OTEL_TRACES_EXPORTER": "db"})
    with served.running():
        response = requests.get(
            served.url + AS_SENT, headers={"Authorization": f"Token {token}"}, timeout=30
        )
        assert response.status_code == 404, served.log()[-3000:]
        span = wait_for(
            lambda: next(
                (
                    s
                    for s in TraceSpan.objects.filter(kind="SERVER")
                    if s.attributes.get("http.target") == AS_SENT
                ),
                None,
            ),
            f"the span of {AS_SENT} stored by {kind}",
            seconds=30,
        )
    assert span.attributes["http.status_code"] == 404 and span.duration_ms > 0
