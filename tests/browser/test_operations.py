"""In real headless Chromium: the quarterly survey asked at the top of the pages and answered;
the executive tiles judged met or missed with their formula and rows; an open incident on the
on-call page, its page with the changes made before it, and a rollback run from there."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from catalog.models import Policy
from catalog.services import policy_save
from metrics.models import MetricDefinition, SurveyAnswer
from metrics.services import incident_open
from tests.dashboards.test_executive_metrics import store

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

QUESTION = "How likely are you to recommend SSOps to a colleague?"


def test_the_survey_is_asked_once_and_answered(open_as, live_server, bob):
    page = open_as(bob)
    page.goto(f"{live_server.url}/catalog/")
    survey = page.get_by_role("group", name=QUESTION)
    expect(survey).to_be_visible()
    survey.get_by_label("9", exact=True).check()
    survey.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Thank you for answering.")
    expect(page).to_have_url(f"{live_server.url}/catalog/")
    expect(page.get_by_text(QUESTION)).to_have_count(0)
    page.goto(f"{live_server.url}/requests/")
    expect(page.get_by_text(QUESTION)).to_have_count(0)
    assert SurveyAnswer.objects.get(user=bob).score == 9


def test_the_survey_can_be_dismissed(open_as, live_server, bob):
    page = open_as(bob)
    page.goto(f"{live_server.url}/requests/")
    page.get_by_role("button", name="Not now (ask next quarter)").click()
    expect(page.get_by_role("status")).to_contain_text("Asked again next quarter.")
    expect(page.get_by_text(QUESTION)).to_have_count(0)
    assert SurveyAnswer.objects.get(user=bob).dismissed


def test_the_executive_tiles_are_judged_and_lead_to_their_rows(open_as, live_server, executive):
    store("M4", {1: 3600.0, 0: 3000.0})
    store("M4", {1: 2400.0, 0: 1200.0}, dimension="low")
    store("M5", {1: 0.02, 0: 0.08})
    MetricDefinition.objects.create(metric="M5", version=2, since=timezone.now())
    page = open_as(executive)
    page.goto(f"{live_server.url}/dashboards/executive/")
    m4 = page.locator("li.tile", has=page.get_by_role("link", name="M4 Approval turnaround"))
    expect(m4.locator('[data-verdict="M4"]')).to_have_text("met")
    expect(m4).to_contain_text("(low: 20 m)")
    m5 = page.locator("li.tile", has=page.get_by_role("link", name="M5 Policy deny rate"))
    expect(m5.locator('[data-verdict="M5"]')).to_have_text("missed")  # 8 % against < 5 %
    expect(m5).to_contain_text("requests denied by at least one enforcing policy")
    expect(m5.locator('[data-definition="M5"]')).to_contain_text("Definition v2 since")
    m5.get_by_role("link", name="the rows").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("The rows behind M5 Policy deny rate")


def test_oncall_finds_the_incident_and_an_admin_rolls_the_policy_back(
    open_as, live_server, oncall, platform_admin
):
    for number, source in ((1, '"no" if false'), (2, '"no" if true')):
        policy_save(
            actor=None,
            slug="guard",
            title="Guard",
            source=f"package t.guard\n\nimport rego.v1\n\ndeny contains {source}\n",
        )
        assert Policy.objects.get().current_version.number == number
    incident = incident_open(actor=oncall, title="every request denied", severity="sev1")
    page = open_as(oncall)
    page.goto(f"{live_server.url}/dashboards/oncall/")
    section = page.locator("section", has=page.get_by_role("heading", name="Open incidents"))
    section.get_by_role("link", name="every request denied").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("every request denied")
    expect(page.get_by_role("cell", name="policy guard v2")).to_be_visible()
    page.get_by_role("button", name="Acknowledge (take it)").click()
    expect(page.get_by_role("status")).to_contain_text("Acknowledged")

    admin = open_as(platform_admin)
    admin.goto(f"{live_server.url}/incidents/{incident.uuid}/")
    admin.get_by_role("button", name="Restore guard v1").click()
    expect(admin.get_by_role("status")).to_contain_text("guard v1 is current again (as v3)")
    expect(admin).to_have_url(f"{live_server.url}/incidents/{incident.uuid}/")
    assert Policy.objects.get().current_version.source.endswith('deny contains "no" if false\n')
