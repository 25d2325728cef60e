"""E-mail through Django's mail backend and HMAC-SHA256-signed webhooks, sent on commit."""

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import requests

from catalog.models import Webhook
from catalog.services import request_approve, request_reject
from catalog.services.notifications import sign, webhook_deliver

pytestmark = pytest.mark.django_db


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def test_approvers_are_mailed_when_a_request_waits(
    submit, gadget, alice, carol, mailoutbox, on_commit
):
    with on_commit():
        request = submit("gadget")
    assert sorted(m.to[0] for m in mailoutbox) == ["alice@example.test", "carol@example.test"]
    message = mailoutbox[0]
    assert message.subject == "[SSOps] Approval needed: gadget 1.0.0 for payments"
    assert f"/requests/{request.uuid}/" in message.body and "Decide before" in message.body


def test_the_requester_hears_the_decision_but_not_about_automatic_approval(
    submit, widget, gadget, carol, mailoutbox, on_commit
):
    with on_commit():
        submit("widget")
    # Not told it was approved (it was automatic), only that it is ready (Celery runs eagerly).
    assert [m.subject for m in mailoutbox] == ["[SSOps] Your request widget 1.0.0 is ready"]
    mailoutbox.clear()
    request = submit("gadget")
    with on_commit():
        request_reject(request=request, actor=carol, comment="too big")
    assert [m.to for m in mailoutbox] == [["bob@example.test"]]
    assert mailoutbox[0].subject == "[SSOps] Your request gadget 1.0.0 is rejected"


class Receiver(BaseHTTPRequestHandler):
    received: list = []
    status = 204

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.received.append((dict(self.headers), body))
        self.send_response(Receiver.status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    Receiver.received = []
    Receiver.status = 204
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()
    server.server_close()


def test_webhooks_are_signed_and_carry_no_parameters(
    submit, gadget, carol, receiver, on_commit, team
):
    Webhook.objects.create(
        name="chat",
        url=receiver,
        secret="s3cret-key",
        team=team,
        events=["pending_approval", "provisioning"],
    )
    with on_commit():
        request = submit("gadget", parameters={"name": "secret-project"})
    with on_commit():
        request_approve(request=request, actor=carol)
    assert [json.loads(body)["event"] for _, body in Receiver.received] == [
        "pending_approval",
        "provisioning",
    ]
    headers, body = Receiver.received[0]
    timestamp, signature = (
        part.split("=", 1)[1] for part in headers["X-SSOps-Signature"].split(",")
    )
    expected = hmac.new(b"s3cret-key", f"{timestamp}.".encode() + body, hashlib.sha256)
    assert hmac.compare_digest(signature, expected.hexdigest())
    document = json.loads(body)
    assert document["request"]["uuid"] == str(request.uuid)
    assert document["request"]["team"] == "payments" and "secret-project" not in body.decode()
    assert headers["X-SSOps-Event"] == "pending_approval"


def test_a_webhook_for_another_team_hears_nothing(submit, gadget, receiver, on_commit, other_team):
    Webhook.objects.create(name="other", url=receiver, secret="k", team=other_team)
    with on_commit():
        submit("gadget")
    assert Receiver.received == []


def test_a_failing_receiver_raises_for_retry_and_a_refusal_is_only_logged(submit, gadget, receiver):
    hook = Webhook.objects.create(name="flaky", url=receiver, secret="k")
    request = submit("gadget")
    Receiver.status = 503
    with pytest.raises(requests.HTTPError):
        webhook_deliver(webhook_id=hook.pk, request_id=request.pk, event="x", occurred=1)
    Receiver.status = 410
    assert webhook_deliver(webhook_id=hook.pk, request_id=request.pk, event="x", occurred=1) == 410


def test_the_signature_covers_timestamp_and_body():
    assert sign("k", 1, b"{}") == "t=1,v1=" + hmac.new(b"k", b"1.{}", hashlib.sha256).hexdigest()
    assert sign("k", 2, b"{}") != sign("k", 1, b"{}")
