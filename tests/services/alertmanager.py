"""A real Alertmanager for the tests (Debian `prometheus-alertmanager`), session-wide, on a free
127.0.0.1 port with its data in a temporary directory, routing everything to a null receiver."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.services.prometheus import free_port, require_binary

ALERTMANAGER = "/usr/bin/prometheus-alertmanager"
CONFIG = """
route:
  receiver: "null"
  group_wait: 1s
  group_interval: 1s
receivers:
  - name: "null"
"""


class AlertmanagerServer:
    def __init__(self, workdir: Path, config: str = CONFIG, group_by: list[str] | None = None):
        """`config`: Alertmanager's configuration; `group_by`: the labels its route groups
        alerts by into notifications."""
        self.workdir = workdir
        self.config = config
        if group_by:
            self.config = config.replace(
                '  receiver: "null"\n', f'  receiver: "null"\n  group_by: {group_by!r}\n'
            )
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> AlertmanagerServer:
        require_binary(ALERTMANAGER)
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = self.workdir / "alertmanager.yml"
        config.write_text(self.config)
        log = (self.workdir / "alertmanager.log").open("ab")
        self.process = subprocess.Popen(
            [
                ALERTMANAGER,
                f"--config.file={config}",
                f"--storage.path={self.workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--cluster.listen-address=",
                "--log.level=warn",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Alertmanager exited; see {self.workdir / 'alertmanager.log'}")
            try:
                if requests.get(f"{self.url}/-/ready", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"Alertmanager not ready on {self.url}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None

    def groups(self) -> list[dict]:
        """The alert groups Alertmanager formed, each with its receiver and labels."""
        response = requests.get(f"{self.url}/api/v2/alerts/groups", timeout=5)
        response.raise_for_status()
        return response.json()

    def active_alerts(self, **labels: str) -> list[dict]:
        """Alerts Alertmanager holds as active (not resolved) with these labels."""
        filters = [f'{name}="{value}"' for name, value in labels.items()]
        response = requests.get(
            f"{self.url}/api/v2/alerts", params={"filter": filters, "active": "true"}, timeout=5
        )
        response.raise_for_status()
        return [a for a in response.json() if a["status"]["state"] != "resolved"]


@pytest.fixture(scope="session")
def alertmanager(tmp_path_factory):
    server = AlertmanagerServer(tmp_path_factory.mktemp("alertmanager")).start()
    yield server
    server.stop()
