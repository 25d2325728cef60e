"""The catalog pages: they work without JavaScript, show errors next to each field, refresh
with htmx where it helps, and show only what the caller may see."""

import re

import pytest
from django.utils.html import escape

from catalog.models import Request
from catalog.services import request_approve

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_bob(client, bob):
    client.force_login(bob)
    return client


def test_the_catalog_lists_and_searches_templates(as_bob, demo_templates):
    page = as_bob.get("/catalog/").content.decode()
    assert "4 templates" in page and "Temporary elevated access" in page
    assert 'src="/static/catalog/htmx.min.js"' in page
    found = as_bob.get("/catalog/?q=postgres").content.decode()
    assert "1 template" in found and "PostgreSQL database" in found
    assert "1 template" in as_bob.get("/catalog/?risk_tier=high").content.decode()
    assert "2 templates" in as_bob.get("/catalog/?tag=kubernetes").content.decode()


def test_htmx_search_gets_only_the_results(as_bob, demo_templates):
    partial = as_bob.get("/catalog/?q=access", headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in partial and "Temporary elevated access" in partial


def test_template_detail_shows_facts_parameters_steps_and_versions(as_bob, demo_templates):
    page = as_bob.get("/catalog/postgres-database/").content.decode()
    for text in (
        "1 approver",
        "30 days (at most 52 weeks)",
        "60.00 EUR a month",
        "<code>storage_gib</code>",
        "<code>postgres.database</code>",
        "0.9.0",
    ):
        assert text in page, text
    assert as_bob.get("/catalog/no-such-thing/").status_code == 404


def test_the_form_is_generated_from_the_schema_with_a_label_for_every_input(as_bob, widget):
    page = as_bob.get("/catalog/widget/request/").content.decode()
    ids = set(re.findall(r'<(?:input|select|textarea)[^>]*\bid="([^"]+)"', page))
    assert {"id_param_name", "id_param_cpu", "id_team", "id_ttl_hours", "id_justification"} <= ids
    for input_id in ids:
        assert f'for="{input_id}"' in page, input_id
    assert 'value="500"' in page and 'value="24"' in page  # defaults


def test_a_form_without_javascript_files_the_request(as_bob, widget):
    response = as_bob.post(
        "/catalog/widget/request/",
        {
            "team": "payments",
            "ttl_hours": 24,
            "param_name": "nojs",
            "param_cpu": 700,
            "version": "1.0.0",
        },
    )
    request = Request.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/requests/{request.uuid}/"
    assert request.parameters == {"name": "nojs", "cpu": 700} and request.state == "provisioning"


def test_errors_show_next_to_each_field_and_nothing_is_filed(as_bob, widget):
    response = as_bob.post(
        "/catalog/widget/request/",
        {"team": "payments", "ttl_hours": 500, "param_name": "Bad Name", "param_cpu": "many"},
    )
    page = response.content.decode()
    assert response.status_code == 200 and not Request.objects.exists()
    assert 'role="alert"' in page
    for field, message in (
        ("param_name", "Use the expected format (^[a-z][a-z0-9-]*$)."),
        ("param_cpu", "Enter a whole number."),
        ("ttl_hours", "Use 168 hours or less for this template."),
    ):
        block = re.search(rf'<ul class="errorlist" id="id_{field}_error">(.*?)</ul>', page, re.S)
        assert block and escape(message) in block.group(1), field
        assert re.search(rf'<[^>]*aria-invalid="true"[^>]*id="id_{field}"', page) or re.search(
            rf'<[^>]*id="id_{field}"[^>]*aria-invalid="true"', page
        ), field


def test_my_requests_and_the_live_timeline(as_bob, submit, gadget, widget, carol):
    pending = submit("gadget")
    submit("widget")
    page = as_bob.get("/requests/").content.decode()
    assert "My requests" in page and page.count("/requests/") >= 2
    detail = as_bob.get(f"/requests/{pending.uuid}/").content.decode()
    assert 'hx-trigger="every 2s"' in detail and "You cannot approve your own request" in detail
    assert "Approve</button>" not in detail and "Cancel this request" in detail
    request_approve(request=pending, actor=carol, comment="go")
    timeline = as_bob.get(f"/requests/{pending.uuid}/timeline/").content.decode()
    assert "<html" not in timeline and "carol</strong> approved" in timeline
    assert "Provisioning" in timeline and 'hx-trigger="every 2s"' in timeline


def test_a_final_request_stops_polling(as_bob, submit, gadget, bob):
    from catalog.services import request_cancel

    request = request_cancel(request=submit("gadget"), actor=bob)
    assert "hx-trigger" not in as_bob.get(f"/requests/{request.uuid}/timeline/").content.decode()


def test_an_approver_decides_from_the_inbox_without_javascript(client, submit, gadget, carol):
    request = submit("gadget")
    client.force_login(carol)
    inbox = client.get("/approvals/").content.decode()
    assert f"/requests/{request.uuid}/approve/" in inbox
    response = client.post(
        f"/requests/{request.uuid}/approve/", {"comment": "fine", "next": "inbox"}
    )
    assert response.status_code == 302 and response["Location"] == "/approvals/"
    request.refresh_from_db()
    assert request.state == "provisioning"
    assert "Nothing waits for you" in client.get("/approvals/").content.decode()


def test_the_requester_cannot_approve_by_posting_either(as_bob, submit, gadget):
    request = submit("gadget")
    assert "Nothing waits for you" in as_bob.get("/approvals/").content.decode()
    assert as_bob.post(f"/requests/{request.uuid}/approve/").status_code == 403
    request.refresh_from_db()
    assert request.state == "pending_approval"


def test_outsiders_see_nothing_of_another_teams_requests(client, submit, gadget, charlie):
    request = submit("gadget")
    client.force_login(charlie)
    assert client.get(f"/requests/{request.uuid}/").status_code == 404
    assert client.post(f"/requests/{request.uuid}/approve/").status_code == 404
    assert str(request.uuid) not in client.get("/requests/?mine=").content.decode()


def test_list_pages_do_a_bounded_number_of_queries(
    as_bob, submit, gadget, django_assert_max_num_queries
):
    for _ in range(5):
        submit("gadget")
    with django_assert_max_num_queries(12):
        as_bob.get("/requests/")
    with django_assert_max_num_queries(12):
        as_bob.get("/catalog/")
