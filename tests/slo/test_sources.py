"""When a source cannot answer, SLOs are `unavailable` — never 100 % good, never a page.

Prometheus is stopped for real. Answers a healthy Prometheus never gives (HTTP 503, a 200 with
warnings, a stalled connection) come from tiny local HTTP servers — real sockets, not mocks of
the client — because they cannot be caused on a real Prometheus on demand.
"""

import http.server
import io
import json
import socket
import threading
from datetime import UTC, datetime

import pytest
from django.core.management import call_command

from slo import tasks
from slo.models import SLO, AlertDelivery, AlertEvent, Snapshot
from slo.sources import prometheus as prometheus_source
from slo.sources.prometheus import PrometheusSource
from tests.slo import workload

pytestmark = pytest.mark.django_db
OUTAGE_PLUS_10 = workload.OUTAGE[0] + 600


def evaluate(at: float, *names: str) -> dict[str, dict]:
    out = io.StringIO()
    moment = datetime.fromtimestamp(at, UTC).isoformat()
    call_command(
        "slo_evaluate", "--json", "--at", moment, *[f"--slo={n}" for n in names], stdout=out
    )
    return {item["name"]: item for item in json.loads(out.getvalue())}


def assert_unavailable(results: dict[str, dict], reason: str = "") -> None:
    for result in results.values():
        assert result["data_status"] == "unavailable", result
        assert result["sli"] is None and result["alerts"] == []
        assert set(result["burn_rates"].values()) == {None}


@pytest.mark.prometheus
def test_prometheus_stopped_between_runs_gives_unavailable_and_no_page(
    settings, prometheus_factory, workload_slos, django_capture_on_commit_callbacks
):
    server = prometheus_factory()
    settings.PROMETHEUS_URL = server.url
    settings.ALERTMANAGER_URL = ""
    tasks.evaluate(at=datetime.fromtimestamp(OUTAGE_PLUS_10, UTC).isoformat())
    assert AlertEvent.objects.filter(slo__name="checkout-availability", kind="fired").exists()
    deliveries, events = AlertDelivery.objects.count(), AlertEvent.objects.count()

    server.stop()
    tasks.evaluate(at=datetime.fromtimestamp(OUTAGE_PLUS_10 + 60, UTC).isoformat())
    later = Snapshot.objects.filter(at=datetime.fromtimestamp(OUTAGE_PLUS_10 + 60, UTC))
    assert {s.data_status for s in later} == {"unavailable"}
    assert AlertEvent.objects.count() == events  # nothing fired, nothing claimed resolved
    assert AlertDelivery.objects.count() == deliveries  # and the page is not kept alive
    slo = SLO.objects.get(name="checkout-availability")
    assert slo.data_status == "unavailable" and "is unreachable" in slo.data_status_detail
    assert slo.data_status_since.timestamp() == OUTAGE_PLUS_10 + 60
    assert_unavailable(evaluate(OUTAGE_PLUS_10 + 60, "checkout-availability"))


@pytest.mark.prometheus
def test_prometheus_stopped_during_an_evaluation_leaves_no_half_answers(
    settings, prometheus_factory, workload_slos, monkeypatch
):
    """The SLOs answered before the stop are evaluated; every other one is unavailable. The
    stop is real; the patch only times it: right after the first request is answered (one
    question, a metric, per request; several requests in flight)."""
    server = prometheus_factory()
    settings.PROMETHEUS_URL = server.url
    monkeypatch.setattr(prometheus_source, "PARTS_PER_REQUEST", 1)
    original = PrometheusSource._ask
    answered_queries = []
    stopping = threading.Lock()

    def stop_after_the_first_request(self, queries, at):
        answers = original(self, queries, at)
        with stopping:
            answered_queries.extend(
                q for q, a in zip(queries, answers, strict=True) if isinstance(a, list)
            )
            server.stop()
        return answers

    monkeypatch.setattr(PrometheusSource, "_ask", stop_after_the_first_request)
    results = evaluate(OUTAGE_PLUS_10)
    answered = {n for n, r in results.items() if r["data_status"] != "unavailable"}
    assert answered_queries and answered  # some were answered before the stop...
    assert any(r["data_status"] == "unavailable" for r in results.values())  # ...not all
    for name in answered:
        metric = SLO.objects.get(name=name).total_query.split("{")[0]
        assert any(metric in query for query in answered_queries), name
    assert all(not r["alerts"] for r in results.values() if r["data_status"] == "unavailable")


def test_no_prometheus_url_says_what_to_set(settings, workload_slos):
    settings.PROMETHEUS_URL = None
    results = evaluate(workload.END, "checkout-availability")
    assert_unavailable(results)
    call_command("slo_evaluate", "--at", "2026-01-01T00:00:00Z", stdout=(out := io.StringIO()))
    assert "PROMETHEUS_URL is not set" in out.getvalue()


class Stub(http.server.BaseHTTPRequestHandler):
    status = 200
    body = b"{}"
    hits = 0

    def do_POST(self):  # noqa: N802 (http.server's naming)
        type(self).hits += 1
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


@pytest.fixture
def stub_prometheus(settings):
    servers = []

    def serve(status: int, body: dict) -> str:
        handler = type("Handler", (Stub,), {"status": status, "body": json.dumps(body).encode()})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        settings.PROMETHEUS_URL = f"http://127.0.0.1:{server.server_port}"
        return handler

    yield serve
    for server in servers:
        server.shutdown()


def test_a_prometheus_answering_with_warnings_is_not_trusted(stub_prometheus, workload_slos):
    empty = {"resultType": "vector", "result": []}
    stub_prometheus(200, {"status": "success", "warnings": ["remote read failed"], "data": empty})
    results = evaluate(workload.END, "checkout-availability")
    assert_unavailable(results)
    out = io.StringIO()
    call_command(
        "slo_evaluate", "--at", "2026-01-01T00:00:00Z", "--slo", "archive-availability", stdout=out
    )
    assert "warnings: remote read failed" in out.getvalue()


def test_server_errors_are_retried_then_reported(stub_prometheus, workload_slos):
    handler = stub_prometheus(503, {"status": "error", "error": "overloaded"})
    assert_unavailable(evaluate(workload.END, "checkout-availability"))
    # The SLO's queries go in one request, which is not retried; when it fails they are asked
    # alone, the first tried three times (two retries); then the source is down for the run.
    assert handler.hits == 1 + 3


def test_a_stalled_prometheus_times_out(settings, workload_slos):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)  # accepts connections and never answers
    settings.PROMETHEUS_URL = f"http://127.0.0.1:{listener.getsockname()[1]}"
    settings.PROMETHEUS_TIMEOUT = 0.3
    try:
        assert_unavailable(evaluate(workload.END, "checkout-availability"))
    finally:
        listener.close()


@pytest.mark.prometheus
def test_a_query_prometheus_refuses_makes_only_that_slo_unavailable(
    settings, prometheus, workload_slos
):
    settings.PROMETHEUS_URL = prometheus.url
    slo = SLO.objects.get(name="search-latency")
    # Valid PromQL that Prometheus cannot execute: many series on the "one" side of a match.
    slo.threshold_query = "http_request_latency_p99_seconds * on() http_requests_total"
    slo.save()
    results = evaluate(workload.END, "search-latency", "checkout-availability")
    assert results["search-latency"]["data_status"] == "unavailable"
    assert results["checkout-availability"]["data_status"] == "ok"
