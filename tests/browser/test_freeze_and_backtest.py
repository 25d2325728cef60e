"""Error budgets in real headless Chromium: while checkout's outage pages, the request form
shows the freeze as soon as the service and environment are chosen (htmx), and a fix still
goes through; the SLO editor shows a backtest of the SLO as edited before it is saved."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from catalog.models import Request
from slo.models import SLO
from tests.browser.test_catalog_flow import login  # noqa: F401 (fixture)
from tests.catalog.conftest import demo_policies, demo_templates  # noqa: F401 (fixtures)
from tests.slo import workload
from tests.slo.conftest import slo_import, workload_slos  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.prometheus, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def paging(settings, prometheus, workload_slos, demo_templates, demo_policies):  # noqa: F811
    """checkout-availability recorded ten minutes into the outage (paging)."""
    settings.PROMETHEUS_URL = prometheus.url
    SLO.objects.filter(service__name="checkout").exclude(name="checkout-availability").delete()
    moment = datetime.fromtimestamp(workload.OUTAGE[0] + 600, UTC).isoformat()
    call_command("slo_evaluate", "--record", "--at", moment, stdout=io.StringIO())


def test_the_request_form_shows_the_freeze(page, live_server, login, bob, paging):  # noqa: F811
    login(page, "bob")
    page.goto(f"{live_server.url}/catalog/restart-deployment/request/")
    page.get_by_label("Deployment").fill("checkout")
    page.get_by_label("Namespace").fill("shop")
    page.get_by_label("Environment").select_option("prod")
    freeze = page.locator("#freeze-state")
    expect(freeze).to_contain_text("checkout is frozen by its error budget")
    expect(freeze).to_contain_text("SLO checkout-availability is paging")
    page.get_by_label("Justification").fill("roll back the bad config that causes the outage")
    page.get_by_label("A fix for the problem burning the error budget").check()
    page.get_by_role("button", name="Submit request").click()
    expect(page.locator("#change-kind")).to_have_text("FIX")
    request = Request.objects.get()
    assert request.state == "pending_approval" and request.change_kind == "fix"


def test_the_slo_editor_shows_a_backtest_before_saving(
    page,
    live_server,
    login,  # noqa: F811 (the fixture)
    platform_admin,
    paging,
):
    login(page, "padmin")
    page.goto(f"{live_server.url}/slos/checkout-availability/edit/")
    page.get_by_label("Objective").fill("0.9995")
    page.get_by_label("Backtest over (days)").fill("1")
    page.get_by_label("Backtest up to (UTC)").fill("2026-01-01 00:00")
    page.get_by_role("button", name="Backtest").click()
    alerts = page.locator("#backtest-alerts")
    expect(alerts).to_contain_text("page")
    expect(alerts).to_contain_text("2025-12-31T21:")
    expect(page.locator("[data-chart=chart-backtest] .main-svg").first).to_be_visible()
    assert SLO.objects.get(name="checkout-availability").objective == 0.999  # not saved
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("checkout-availability")
    assert SLO.objects.get(name="checkout-availability").objective == 0.9995
