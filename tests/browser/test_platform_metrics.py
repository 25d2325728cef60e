"""Platform metrics in real headless Chromium: the rating form appears by itself on the request
page once the request finishes, and is sent; the metric pages draw their history with the Plotly
SSOps serves (no console error, no request to another host, under the site's CSP)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from catalog.models import Request, RequestTransition
from catalog.services import request_mark_ready, request_submit
from metrics.models import SatisfactionRating
from metrics.periods import period_containing
from metrics.services import metric_snapshots_record
from provisioning import tasks
from tests.catalog.conftest import publish, template_document
from tests.metrics.conftest import AFTER, DAY, moment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_rating_is_offered_once_the_request_finishes(
    open_as, live_server, bob, team, monkeypatch
):
    monkeypatch.setattr(tasks.provision_request, "delay", lambda *args, **kwargs: None)
    publish(template_document("widget"))
    filed = request_submit(
        actor=bob, template="widget", team=team, parameters={"name": "payments-web"}
    )
    page = open_as(bob)
    page.goto(f"{live_server.url}/requests/{filed.uuid}/")
    expect(page.locator("#live [data-state]")).to_have_text("Provisioning")
    expect(page.get_by_role("heading", name="How did it go?")).to_have_count(0)
    request_mark_ready(request=Request.objects.get(pk=filed.pk), outputs={})
    expect(page.get_by_role("heading", name="How did it go?")).to_be_visible(timeout=15_000)
    page.get_by_label("4 good").check()
    page.get_by_label("Comment (optional)").fill("quick and clear")
    page.get_by_role("button", name="Send my rating").click()
    expect(page.get_by_role("status")).to_contain_text("Thank you for rating this request.")
    expect(page.locator("#rating")).to_contain_text("4/5")
    rating = SatisfactionRating.objects.get()
    assert (rating.score, rating.comment) == (4, "quick and clear")


def test_the_metric_pages_draw_their_history(
    open_as, live_server, executive, team, bob, monkeypatch
):
    monkeypatch.setattr(tasks.provision_request, "delay", lambda *args, **kwargs: None)
    publish(template_document("widget"))
    for hours in (0, 24):  # one provision on 7 and one on 8 January: two values to draw
        filed = request_submit(
            actor=bob, template="widget", team=team, parameters={"name": f"payments-{hours}"}
        )
        request_mark_ready(request=Request.objects.get(pk=filed.pk), outputs={})
        Request.objects.filter(pk=filed.pk).update(created_at=moment(hours))
        RequestTransition.objects.filter(request=filed).update(created_at=moment(hours, 1))
    for day in (DAY, AFTER):
        metric_snapshots_record(period=period_containing("day", day), now=AFTER)
    page = open_as(executive)
    page.goto(f"{live_server.url}/platform-metrics/?period=day&at=2026-01-08")
    expect(page.get_by_role("heading", level=1)).to_have_text("Platform metrics")
    expect(page.locator("tr#M2 svg.spark")).to_be_visible()
    page.get_by_role("link", name="M2 Provisioning latency").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("M2 Provisioning latency")
    expect(page.locator('[data-chart="chart-history"] svg.main-svg').first).to_be_attached()
