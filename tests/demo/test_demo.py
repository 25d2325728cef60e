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


TOUR = ROOT / "test-artifacts" / "tour"


def _sign_in(page, web: str, username: str, next_path: str) -> None:
    page.goto(f"{web}/accounts/login/?next={next_path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{web}{next_path}")


def _shot(page, name: str) -> None:
    TOUR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(TOUR / f"{name}.png"))


@pytest.mark.browser
def test_the_tour_of_the_three_users(demo, page_factory):
    """The README's guided tour, taken on the running demo: a developer files a namespace and
    follows it to ready and to its debug page; on-call sees the checkout page alert (the
    outage started at once in this drill) and its SLO; checkout is frozen — its deploy gate
    answers 409 and the request form shows the freeze to a developer who would restart it in
    production; an admin backtests the checkout SLO as edited; leadership reads the executive
    dashboard, the held change included. Screenshots go to test-artifacts/tour/ (copied to
    docs/tour/ for the README)."""
    from playwright.sync_api import expect

    web = demo["urls"]["web"]
    size = {"viewport": {"width": 1280, "height": 860}}

    developer = page_factory(**size)
    _sign_in(developer, web, "dev", "/catalog/")
    _shot(developer, "1-developer-catalog")
    developer.goto(f"{web}/catalog/kubernetes-namespace/request/")
    name = f"payments-tour-{os.getpid() % 10000}"
    developer.get_by_label("Namespace name").fill(name)
    developer.get_by_label("Team").select_option("payments")
    developer.get_by_label("Justification").fill("Staging namespace for the checkout rewrite")
    developer.get_by_role("button", name="Submit request").click()
    expect(developer.get_by_role("heading", level=1)).to_contain_text("for payments")
    # The demo's worker takes the run from the embedded broker; the page follows it live.
    expect(developer.locator("#live [data-state]")).to_have_text("Ready", timeout=90_000)
    expect(developer.locator("#run")).to_contain_text("Succeeded")
    _shot(developer, "2-developer-request-ready")
    uuid = developer.url.rstrip("/").rsplit("/", 1)[-1]
    developer.goto(f"{web}/dashboards/debug/{uuid}/")
    developer.wait_for_selector(".js-plotly-plot .main-svg")
    _shot(developer, "3-developer-debug")

    oncall = page_factory(**size)
    _sign_in(oncall, web, "oncall", "/dashboards/oncall/")
    oncall.wait_for_selector(".js-plotly-plot .main-svg")
    expect(oncall.locator("main")).to_contain_text("checkout-availability", timeout=90_000)
    _shot(oncall, "4-oncall-dashboard")
    oncall.goto(f"{web}/dashboards/slos/checkout-availability/")
    oncall.wait_for_selector(".js-plotly-plot .main-svg")
    _shot(oncall, "5-oncall-slo")

    # The page froze checkout: its deploy gate (what a CI pipeline asks) answers 409.
    def gate_closed():
        answer = developer.request.get(f"{web}/api/gates/checkout/")
        return answer.status == 409 and answer.json()

    gate = _wait(gate_closed, 120, "checkout's gate did not close", demo["process"], demo["log"])
    assert any("checkout-availability" in reason for reason in gate["reasons"])
    developer.goto(f"{web}/catalog/restart-deployment/request/")
    developer.get_by_label("Team").select_option("payments")
    developer.get_by_label("Deployment").fill("checkout")
    developer.get_by_label("Namespace").fill("payments-prod")
    developer.get_by_label("Environment").select_option("prod")
    expect(developer.locator("#freeze-state")).to_contain_text("checkout is frozen")
    developer.get_by_label("Justification").fill("Roll out the new payment provider config")
    developer.evaluate("window.scrollTo(0, 0)")  # the freeze shows above the form
    _shot(developer, "7-developer-freeze")
    developer.get_by_role("button", name="Submit request").click()
    expect(developer.locator("main")).to_contain_text("error-budget-freeze")

    admin = page_factory(**size)
    _sign_in(admin, web, "admin", "/slos/checkout-availability/edit/")
    admin.get_by_role("button", name="Backtest").click()
    expect(admin.locator("#backtest-alerts")).to_contain_text("page", timeout=60_000)
    admin.wait_for_selector("[data-chart=chart-backtest] .main-svg")
    admin.locator("#backtest").scroll_into_view_if_needed()
    _shot(admin, "8-admin-slo-backtest")

    leader = page_factory(**size)
    _sign_in(leader, web, "exec", "/dashboards/executive/")
    leader.wait_for_selector(".js-plotly-plot .main-svg")
    _shot(leader, "6-executive-dashboard")
