"""Fixtures for the provisioning engine: a local webhook receiver whose answers a test scripts
(real HTTP: transient 5xx, permanent 4xx, a slow answer), templates built from steps, a helper
that files a request and lets the engine run (Celery eager, on commit), and a real PostgreSQL
server for the database backend (objects named with a per-test prefix, dropped afterwards)."""

from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg
import pytest
from psycopg import sql

from catalog.models import Request
from catalog.services import request_approve, request_submit
from tests.catalog.conftest import (  # noqa: F401  (the catalog's fixtures serve here too)
    demo_policies,
    demo_templates,
    gadget,
    make_policy,
    publish,
    submit,
    template_document,
    vault,
    widget,
)

WEBHOOK_SECRET = "test-webhook-signing-key"
ADMIN_DSN = "postgresql://ssops:ssops@127.0.0.1:5432/postgres"


class Receiver:
    """An HTTP server on 127.0.0.1 answering POSTs with the statuses scripted per path (the
    last one repeats), recording what it got; `hold(path)` makes a path wait until released."""

    def __init__(self):
        self.scripts: dict[str, list[int]] = {}
        self.received: list[dict] = []
        self.holds: dict[str, threading.Event] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.received.append(
                    {"path": self.path, "headers": dict(self.headers), "body": body}
                )
                hold = receiver.holds.get(self.path)
                if hold is not None:
                    hold.wait(60)
                script = receiver.scripts.get(self.path, [200])
                status = script.pop(0) if len(script) > 1 else script[0]
                answer = json.dumps({"ok": status < 300}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def script(self, path: str, *statuses: int) -> str:
        self.scripts[path] = list(statuses)
        return self.url + path

    def hold(self, path: str) -> threading.Event:
        self.holds[path] = threading.Event()
        return self.holds[path]

    def posts(self, path: str) -> list[dict]:
        return [r for r in self.received if r["path"] == path]

    def close(self) -> None:
        for event in self.holds.values():
            event.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings):
    server = Receiver()
    settings.WEBHOOK_URLS = [server.url]
    settings.WEBHOOK_SECRET = WEBHOOK_SECRET
    yield server
    server.close()


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Run what is enqueued on commit (Celery is eager in the tests), nested ones included."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def step(step_id: str, action: str, **input_) -> dict:
    return {"id": step_id, "name": f"Step {step_id}", "action": action, "input": input_}


def grant_step(step_id: str = "grant") -> dict:
    return step(
        step_id,
        "access.grant",
        subject="${{ request.requester }}",
        system="payments-db",
        role="read",
        duration="${{ request.ttl_hours }}h",
    )


def namespace_step(step_id: str = "ns") -> dict:
    return step(
        step_id,
        "kubernetes.namespace",
        name="${{ parameters.name }}",
        labels={"team": "${{ request.team }}"},
    )


def webhook_step(step_id: str, url: str) -> dict:
    return step(step_id, "webhook.post", url=url, body={"name": "${{ parameters.name }}"})


def database_step(step_id: str = "db") -> dict:
    return step(step_id, "postgres.database", name="${{ parameters.name }}")


@pytest.fixture
def engine_template(db):
    """Publish a low-risk template (slug `engine` unless named) with these steps."""

    def make(*steps: dict, name: str = "engine", **spec) -> object:
        spec.setdefault("resources", {"kind": name, "count": 1})
        spec.setdefault("output", {"values": {}})
        return publish(template_document(name, steps=list(steps), **spec))

    return make


@pytest.fixture
def provision(bob, team, on_commit):
    """File a request as bob for payments and let the engine run it; the fresh request."""

    def file(template="engine", *, approver=None, **kwargs) -> Request:
        kwargs.setdefault("parameters", {"name": "payments-one"})
        with on_commit():
            request = request_submit(actor=bob, template=template, team=team, **kwargs)
            if approver is not None:
                request_approve(request=request, actor=approver, comment="ok")
        request.refresh_from_db()
        return request

    return file


@pytest.fixture
def pg_server(settings):
    """The local PostgreSQL as the server where databases are created, under a prefix of
    this test's own; everything with the prefix is dropped afterwards."""
    prefix = f"ssopst{uuid.uuid4().hex[:6]}_"
    settings.PROVISION_POSTGRES_URL = ADMIN_DSN
    settings.PROVISION_PREFIX = prefix
    yield prefix
    drop_prefixed(prefix)


def pg_objects(prefix: str) -> dict[str, list[str]]:
    pattern = prefix.replace("_", r"\_") + "%"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as connection:
        databases = connection.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s ORDER BY 1", [pattern]
        ).fetchall()
        roles = connection.execute(
            "SELECT rolname FROM pg_roles WHERE rolname LIKE %s ORDER BY 1", [pattern]
        ).fetchall()
    return {"databases": [r[0] for r in databases], "roles": [r[0] for r in roles]}


def drop_prefixed(prefix: str) -> None:
    found = pg_objects(prefix)
    with psycopg.connect(ADMIN_DSN, autocommit=True) as connection:
        for name in found["databases"]:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        for name in found["roles"]:
            connection.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))
