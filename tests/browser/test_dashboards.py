"""The dashboards in real headless Chromium: every chart is drawn by the Plotly that SSOps
serves, with no console error and no request to another host (the shared `page` fixture fails
the test otherwise and saves a screenshot of each page under test-artifacts/); charts save as
PNG; the on-call page refreshes itself."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from provisioning.models import RunbookRun
from slo.models import SLO
from tests.dashboards import data

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def stored(team, bob):
    data.add_requests(team, bob, 12)
    data.add_slos(team, 3, snapshots=30)
    data.add_metric_days(None, 30)
    data.add_costs(team)
    data.add_operations(20)


def expect_every_chart_drawn(page) -> int:
    charts = page.locator("[data-chart]")
    count = charts.count()
    assert count > 0
    for index in range(count):
        chart = charts.nth(index)
        expect(chart).to_have_attribute("data-drawn", "true")
        expect(chart.locator("svg.main-svg").first).to_be_attached()
        expect(page.locator(f"button[data-png='{chart.get_attribute('id')}']")).to_have_count(1)
    return count


def test_the_executive_dashboard_draws_every_chart(open_as, live_server, executive, stored):
    page = open_as(executive)
    page.goto(f"{live_server.url}/dashboards/executive/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Executive dashboard")
    assert expect_every_chart_drawn(page) >= 12 + 4
    page.get_by_label("Time range", exact=True).select_option("7")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(f"{live_server.url}/dashboards/executive/?days=7")
    expect_every_chart_drawn(page)


def test_a_chart_saves_as_png_from_its_button_and_from_the_modebar(
    open_as, live_server, executive, stored
):
    page = open_as(executive)
    page.goto(f"{live_server.url}/dashboards/executive/")
    expect_every_chart_drawn(page)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the chart “SLOs by state” as PNG").click()
    assert download.value.suggested_filename == "executive-30d-slo-states.png"
    assert download.value.path().read_bytes()[:8] == PNG_SIGNATURE
    chart = page.locator("#chart-provisioning-volume")
    chart.hover()
    with page.expect_download() as download:
        chart.locator(".modebar-btn[data-title='Download plot as a PNG']").click()
    assert download.value.suggested_filename == "executive-30d-provisioning-volume.png"
    assert download.value.path().read_bytes()[:8] == PNG_SIGNATURE


def test_the_oncall_dashboard_draws_its_charts_and_refreshes_itself(
    open_as, live_server, oncall, team, stored
):
    page = open_as(oncall)
    page.clock.install()  # the page's timers run on a clock the test moves
    page.goto(f"{live_server.url}/dashboards/oncall/")
    expect(page.get_by_role("heading", name="Firing alerts")).to_be_visible()
    assert expect_every_chart_drawn(page) == 3
    stamp = page.locator("[data-updated]").get_attribute("data-updated")
    data.add_slos(team, 1)  # a new alert fires; the page shows it on its next refresh
    page.clock.run_for("00:31")  # htmx polls every 30 seconds
    expect(page.locator("[data-updated]")).not_to_have_attribute("data-updated", stamp)
    expect(page.locator("#table-firing-alerts tbody tr")).to_have_count(3)
    expect_every_chart_drawn(page)

    # While someone works inside it (keyboard focus on one of its links), it holds still:
    # the poll sends no request until the focus leaves.
    polls = []
    page.on("request", lambda r: polls.append(r) if r.headers.get("hx-request") else None)
    page.locator("#table-firing-alerts a").first.focus()
    page.clock.run_for("00:31")
    page.evaluate("1")  # a round trip, so any request the timer sent has been reported
    assert polls == []
    page.locator("#table-firing-alerts a").first.blur()
    with page.expect_request(lambda r: bool(r.headers.get("hx-request"))):
        page.clock.run_for("00:31")


def test_the_debug_dashboard_draws_the_waterfall_the_timeline_and_the_steps(
    open_as, live_server, bob, team
):
    from tests.dashboards.test_debug import add_trace

    item = data.add_requests(team, bob, 1)[0]
    add_trace(item)
    data.add_run(item)
    page = open_as(bob)
    page.goto(f"{live_server.url}/dashboards/debug/{item.uuid}/")
    expect(page.get_by_text("chain verified")).to_be_visible()
    assert expect_every_chart_drawn(page) == 3
    expect(page.locator("details.log[open] summary")).to_contain_text("2. DB (failed")
    # Four stored spans, two policy decisions and three run steps.
    expect(page.locator("#chart-trace-waterfall .bars path")).to_have_count(9)


def test_the_slo_page_draws_its_charts(open_as, live_server, bob, team):
    slo = data.add_slos(team, 1, snapshots=48)[0]
    page = open_as(bob)
    page.goto(f"{live_server.url}/dashboards/executive/")
    page.get_by_role("link", name=slo.name).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(slo.name)
    assert expect_every_chart_drawn(page) == 3


def test_the_dashboards_fit_a_laptop_screen(open_as, live_server, executive, stored):
    page = open_as(executive, viewport={"width": 1366, "height": 768})
    for path in ("executive", "oncall"):
        page.goto(f"{live_server.url}/dashboards/{path}/")
        expect_every_chart_drawn(page)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} is wider than the screen by {overflow}px"


@pytest.mark.redis
def test_the_oncall_runbook_button_runs_the_runbook(open_as, live_server, oncall, team, settings):
    settings.RUNBOOK_REDIS_URL = "redis://127.0.0.1:6379/15"
    data.add_runbook("flush-cache")
    slo = data.add_slos(team, 1)[0]
    SLO.objects.filter(pk=slo.pk).update(
        runbook_url=f"{live_server.url}/runbooks/flush-cache/?pattern=ssops-dashboard-test:*"
    )
    page = open_as(oncall)
    page.goto(f"{live_server.url}/dashboards/oncall/")
    act = page.get_by_role("list", name="Act")
    expect(act).to_contain_text(slo.name)
    act.get_by_role("button", name="Run Flush cache keys").click()
    expect(page.get_by_role("status")).to_contain_text("Runbook Flush cache keys")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Flush cache keys")
    expect(page.locator("main")).to_contain_text("Succeeded")
    run = RunbookRun.objects.get()
    assert run.actor == oncall and run.by_oncall and run.team == team
    assert run.parameters["pattern"] == "ssops-dashboard-test:*"
