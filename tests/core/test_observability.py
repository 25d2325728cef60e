"""Request ids, JSON logs, /metrics and /healthz."""

import json
import logging

import pytest

from core.jsonlog import JsonFormatter, MaskSecretsFilter

pytestmark = pytest.mark.django_db


def test_a_request_id_is_made_and_returned(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and len(response["X-Request-ID"]) == 32


def test_a_callers_request_id_is_kept(client):
    response = client.get("/healthz", headers={"X-Request-ID": "abc-123.def"})
    assert response["X-Request-ID"] == "abc-123.def"


def test_an_unsafe_request_id_is_replaced(client):
    response = client.get("/healthz", headers={"X-Request-ID": "bad id\nInjected: yes"})
    assert (
        response["X-Request-ID"] != "bad id\nInjected: yes" and len(response["X-Request-ID"]) == 32
    )


def test_healthz_reports_the_database(client):
    assert client.get("/healthz").json() == {"status": "ok", "database": "ok"}


def test_metrics_count_requests_by_view_method_and_status(client, alice):
    client.force_login(alice)
    client.get("/audit/")
    client.get("/no/such/page/")
    body = client.get("/metrics").content.decode()
    assert 'ssops_http_requests_total{method="GET",status="200",view="audit:event-list"}' in body
    assert 'ssops_http_requests_total{method="GET",status="404",view="unmatched"}' in body
    assert "ssops_http_request_duration_seconds_bucket" in body


def test_audit_events_carry_the_request_id(client, alice):
    client.post(
        "/accounts/login/",
        {"username": "alice", "password": "pw-for-tests"},
        headers={"X-Request-ID": "login-req-1"},
    )
    from audit.models import AuditEvent

    event = AuditEvent.objects.get(action="auth.login")
    assert event.request_id == "login-req-1" and event.actor_name == "alice"


def test_a_failed_login_is_audited_without_the_password(client, alice):
    client.post("/accounts/login/", {"username": "alice", "password": "not-her-password"})
    from audit.models import AuditEvent

    event = AuditEvent.objects.get(action="auth.login_failed")
    assert event.object_id == "alice" and "not-her-password" not in event.body


def test_log_lines_are_json_with_request_id_and_masked_secrets():
    record = logging.makeLogRecord(
        {
            "name": "ssops.test",
            "levelno": logging.INFO,
            "levelname": "INFO",
            "msg": "connecting with password=hunter2 to %s",
            "args": ("postgresql://u:s3cret@h/db",),
            "request_id": "r-1",
        }
    )
    MaskSecretsFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "r-1" and line["level"] == "INFO" and "trace_id" in line
    assert "hunter2" not in line["message"] and "s3cret" not in line["message"]
