"""The catalog in real headless Chromium: a developer files a low-risk request; a
medium-risk one waits; an approver approves it while the requester's page updates itself;
the requester cannot approve their own request."""

import re

import pytest
from playwright.sync_api import expect

from tests.catalog.conftest import publish, template_document

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def catalog(db):
    publish(template_document("widget"))
    publish(
        template_document("gadget", riskTier="medium", approvals={"required": 1, "timeout": "1d"})
    )


@pytest.fixture
def login(live_server):
    def log_in(page, username):
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill("pw-for-tests")
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("heading", name=f"Welcome, {username}")).to_be_visible()
        return page

    return log_in


def file_request(page, live_server, title, name):
    page.goto(f"{live_server.url}/catalog/")
    page.get_by_label("Search").fill(title.lower())
    results = page.locator("#results")
    expect(results).to_contain_text("1 template")  # htmx replaced the results as we typed
    results.get_by_role("link", name=re.compile(title)).click()
    page.get_by_role("link", name=f"Request {title}").click()
    page.get_by_label("Name").fill(name)
    page.get_by_role("button", name="Submit request").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"{title} for payments")
    return page.url.rstrip("/").rsplit("/", 1)[-1]


def test_a_developer_files_a_low_risk_request(page, live_server, login, bob, catalog):
    login(page, "bob")
    file_request(page, live_server, "Widget", "payments-web")
    # Celery runs eagerly in the tests: the provisioning engine has already run its one step.
    expect(page.locator("#live [data-state]")).to_have_text("Ready")
    expect(page.locator("#run")).to_contain_text("Succeeded")
    expect(page.locator("#run tr[data-step-state=succeeded]")).to_contain_text("Namespace")
    timeline = page.get_by_role("list").filter(has_text="Submitted")
    expect(timeline).to_contain_text("Approved")
    expect(timeline).to_contain_text("low risk: approved automatically")
    expect(page.get_by_role("status")).to_contain_text("Request filed: provisioning.")


def test_errors_show_next_to_the_fields(page, live_server, login, bob, catalog):
    login(page, "bob")
    page.goto(f"{live_server.url}/catalog/widget/request/")
    page.get_by_label("Name").fill("Not Valid")
    page.get_by_label("Cpu").fill("5")
    page.get_by_role("button", name="Submit request").click()
    expect(page.get_by_role("alert")).to_contain_text("The request was not filed")
    name = page.get_by_label("Name")
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#id_param_name_error")).to_contain_text("Use the expected format")
    expect(page.locator("#id_param_cpu_error")).to_have_text("Use 100 or more.")


def test_a_medium_risk_request_waits_and_an_approver_approves_it(
    page_factory, live_server, login, bob, carol, catalog
):
    requester = login(page_factory(), "bob")
    uuid = file_request(requester, live_server, "Gadget", "payments-db")
    state = requester.locator("#live [data-state]")
    expect(state).to_have_text("Pending approval")
    expect(requester.locator("#live")).to_contain_text("You cannot approve your own request")
    expect(requester.get_by_role("button", name="Approve")).to_have_count(0)

    approver = login(page_factory(), "carol")
    approver.get_by_role("navigation", name="Main").get_by_role("link", name="Approvals").click()
    item = approver.get_by_role("listitem").filter(has_text="Gadget")
    expect(item).to_contain_text("by bob")
    item.get_by_label("Comment").fill("Looks right")
    item.get_by_role("button", name="Approve").click()
    expect(approver.get_by_role("status")).to_contain_text("Approved.")
    expect(approver.get_by_text("Nothing waits for you.")).to_be_visible()

    # The requester's page polls its timeline with htmx and shows the new state by itself.
    expect(state).to_have_text("Ready", timeout=10_000)
    expect(requester.locator("#live")).to_contain_text("carol approved")
    assert requester.url.endswith(f"/requests/{uuid}/")


def test_the_requester_cannot_approve_their_own_request(page, live_server, login, bob, catalog):
    login(page, "bob")
    uuid = file_request(page, live_server, "Gadget", "payments-own")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Approvals").click()
    expect(page.get_by_text("Nothing waits for you.")).to_be_visible()
    expect(page.get_by_role("table")).to_contain_text("Gadget")
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)
    cookies = page.context.cookies()
    csrf = next(c["value"] for c in cookies if c["name"] == "csrftoken")
    response = page.request.post(
        f"{live_server.url}/requests/{uuid}/approve/",
        form={"comment": "self"},
        headers={"X-CSRFToken": csrf, "Referer": live_server.url},
    )
    assert response.status == 403
    page.goto(f"{live_server.url}/requests/{uuid}/")
    expect(page.locator("#live [data-state]")).to_have_text("Pending approval")


def test_the_form_works_without_javascript(page_factory, live_server, login, bob, catalog):
    page = login(page_factory(java_script_enabled=False), "bob")
    page.goto(f"{live_server.url}/catalog/?q=widget")  # the search form is a plain GET form
    page.get_by_role("link", name=re.compile("Widget")).click()
    page.get_by_role("link", name="Request Widget").click()
    page.get_by_label("Name").fill("Not Valid")
    page.get_by_role("button", name="Submit request").click()
    expect(page.locator("#id_param_name_error")).to_contain_text("Use the expected format")
    page.get_by_label("Name").fill("payments-nojs")
    page.get_by_role("button", name="Submit request").click()
    expect(page.locator("#live [data-state]")).to_have_text("Ready")
