"""The demo command brings up the whole loop: run `./run demo` for real (on free ports, in its own
var/ directory) and check it from the outside, as a new user would."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.parse
from pathlib import Path

import pytest
import requests

from tests.services.prometheus import free_port

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.once


def _get_json(url: str):
    return requests.get(url, timeout=5).json()


def _wait(check, seconds: float, what: str, process: subprocess.Popen, log: Path):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"./run demo exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            value = check()
        except OSError:
            value = None
        if value:
            return value
        time.sleep(1)
    pytest.fail(f"{what} within {seconds:.0f} s; the demo said:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    var = tmp_path_factory.mktemp("demo-var")
    ports = {name: free_port() for name in ("web", "prometheus", "alertmanager", "services")}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "DJANGO_"))}
    env.update(
        SSOPS_VAR_DIR=str(var),
        SSOPS_DEMO_WEB_PORT=str(ports["web"]),
        SSOPS_DEMO_PROMETHEUS_PORT=str(ports["prometheus"]),
        SSOPS_DEMO_ALERTMANAGER_PORT=str(ports["alertmanager"]),
        SSOPS_DEMO_SERVICES_PORT=str(ports["services"]),
        SSOPS_DEMO_OUTAGE_AFTER="0",
    )
    env.pop("SSOPS_CELERY_EAGER", None)
    log = var / "demo-output.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            ["./run", "demo"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    urls = {
        "web": f"http://127.0.0.1:{ports['web']}",
        "prometheus": f"http://127.0.0.1:{ports['prometheus']}",
        "alertmanager": f"http://127.0.0.1:{ports['alertmanager']}",
    }
    try:
        _wait(
            lambda: _get_json(urls["web"] + "/healthz")["status"] == "ok",
            300,
            "the demo did not answer /healthz",
            process,
            log,
        )
        yield {"urls": urls, "process": process, "log": log}
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def test_prometheus_holds_ssops_own_series(demo):
    prometheus = demo["urls"]["prometheus"]
    query = urllib.parse.quote('count({__name__=~"ssops_.+"})')

    def ssops_series():
        result = _get_json(f"{prometheus}/api/v1/query?query={query}")["data"]["result"]
        return result and float(result[0]["value"][1]) > 0

    _wait(ssops_series, 90, "Prometheus held no ssops_* series", demo["process"], demo["log"])
    history = _get_json(
        f"{prometheus}/api/v1/query?query="
        + urllib.parse.quote('increase(http_requests_total{service="checkout"}[7d])')
    )["data"]["result"]
    assert history, "the backfilled demo-service history is missing"


def test_the_checkout_outage_pages_through_alertmanager(demo):
    alertmanager = demo["urls"]["alertmanager"]

    def page_alert():
        alerts = _get_json(f"{alertmanager}/api/v2/alerts")
        return [
            a
            for a in alerts
            if a["labels"].get("slo") == "checkout-availability"
            and a["labels"]["severity"] == "page"
        ]

    alerts = _wait(
        page_alert, 300, "no page alert reached Alertmanager", demo["process"], demo["log"]
    )
    assert alerts[0]["labels"]["team"] == "payments"


@pytest.mark.browser
def test_the_demo_serves_a_logged_in_dashboard_with_charts(demo, page):
    web = demo["urls"]["web"]
    page.goto(f"{web}/accounts/login/?next=/dashboards/executive/")
    page.get_by_label("Username").fill("exec")
    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{web}/dashboards/executive/")
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=30_000)
    assert page.title().startswith("Executive")
    assert page.locator(".js-plotly-plot").count() >= 3
