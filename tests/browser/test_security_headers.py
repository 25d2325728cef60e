"""The Content-Security-Policy forbids inline scripts; pages still work under it in Chromium."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_every_page_carries_the_security_headers(client, alice):
    client.force_login(alice)
    response = client.get("/audit/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_the_api_docs_run_under_the_policy(live_server, page, alice):
    page.goto(live_server.url + "/accounts/login/?next=/api/docs/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", "pw-for-tests")
    page.click("button[type=submit]")
    page.wait_for_selector(".swagger-ui .info", timeout=20_000)
    assert page.locator(".opblock").count() > 5
