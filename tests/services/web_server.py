"""SSOps served for real, on the pytest test database (PostgreSQL pass only: a server in another
process cannot share SQLite's in-memory test database): gunicorn as production runs it, or
`manage.py runserver` as developers do.

    with WebServer("gunicorn", workdir).running() as server:
        requests.get(server.url + "/healthz")

The server runs with the test settings (tasks eager, rate limits off) in its own process
group, logs to `workdir/<kind>.log`, and is stopped (its workers too) when the block ends.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.helpers import stop_group
from tests.services.celery_worker import database_url

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
START_TIMEOUT = 90
KINDS = ("gunicorn", "runserver")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class WebServer:
    def __init__(self, kind: str, workdir: Path, *, env: dict[str, str] | None = None):
        if kind not in KINDS:
            raise ValueError(f"no server {kind!r}: use one of {', '.join(KINDS)}")
        self.kind = kind
        self.workdir = workdir
        self.extra_env = env or {}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / f"{kind}.log"
        self.process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        address = f"127.0.0.1:{self.port}"
        if self.kind == "gunicorn":
            return [str(BIN / "gunicorn"), "ssops_site.wsgi:application", "-b", address, "-w", "2"]
        return [sys.executable, "manage.py", "runserver", "--noreload", address]

    def environment(self) -> dict[str, str]:
        environ = {k: v for k, v in os.environ.items() if not k.startswith("PROMETHEUS_MULTIPROC")}
        environ.update(
            DJANGO_SETTINGS_MODULE="tests.settings",
            DATABASE_URL=database_url(),
            PYTHONUNBUFFERED="1",
        )
        environ.update(self.extra_env)
        return environ

    def start(self) -> WebServer:
        self.workdir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command(),
                cwd=ROOT,
                env=self.environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stop() takes the workers too
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.kind} exited at start; see {self.log_path}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.kind} did not answer in {START_TIMEOUT} s; see {self.log_path}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            stop_group(self.process)

    @contextlib.contextmanager
    def running(self):
        self.start()
        try:
            yield self
        finally:
            self.stop()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
