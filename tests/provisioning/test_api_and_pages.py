"""API endpoints and pages of the engine: lists hold only what the caller may see, objects of
others answer 404, writes check who acts, and everything is in the OpenAPI schema. Pages show
the run's steps with logs and durations, resources with their actions, and runbooks."""

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory

from provisioning.models import Resource, Runbook
from provisioning.services import runbook_run_start
from tests.provisioning.conftest import grant_step, namespace_step, webhook_step
from tests.provisioning.test_runbooks import publish_runbook

pytestmark = pytest.mark.django_db


@pytest.fixture
def ready(provision, engine_template):
    engine_template(grant_step(), namespace_step())
    return provision()


def test_lists_are_scoped_and_others_objects_are_not_found(ready, api_as, charlie, executive):
    resource = Resource.objects.get(kind="kubernetes.namespace")
    run = ready.runs.get()
    outsider = api_as(charlie)
    for url in ("/api/runs/", "/api/steps/", "/api/resources/"):
        assert outsider.get(url).json()["count"] == 0, url
    for url in (
        f"/api/runs/{run.uuid}/",
        f"/api/resources/{resource.uuid}/",
        f"/api/steps/{run.steps.first().uuid}/",
    ):
        assert outsider.get(url).status_code == 404, url
    assert outsider.post(f"/api/resources/{resource.uuid}/extend/", {"hours": 1}).status_code == 404
    viewer = api_as(executive)
    assert viewer.get("/api/resources/").json()["count"] == 2
    assert viewer.post(f"/api/resources/{resource.uuid}/extend/", {"hours": 1}).status_code == 403


def test_a_run_with_its_steps_and_logs(ready, api_as, bob):
    api = api_as(bob)
    run = api.get(f"/api/runs/?request={ready.uuid}").json()["results"][0]
    assert run["state"] == "succeeded" and run["kind"] == "provision"
    detail = api.get(f"/api/runs/{run['uuid']}/").json()
    assert [s["step_id"] for s in detail["steps"]] == ["grant", "ns"]
    step = api.get(f"/api/steps/{detail['steps'][1]['uuid']}/").json()
    assert "kind: Namespace" in step["artifact"] and step["log"] and step["duration_ms"] > 0
    assert api.get("/api/steps/?state=bogus").status_code == 400


def test_owners_extend_and_delete_through_the_api(ready, api_as, alice, on_commit):
    resource = Resource.objects.get(kind="access.grant")
    api = api_as(alice)
    extended = api.post(f"/api/resources/{resource.uuid}/extend/", {"hours": 12}, format="json")
    assert extended.status_code == 200
    too_long = api.post(f"/api/resources/{resource.uuid}/extend/", {"hours": 900}, format="json")
    assert too_long.status_code == 400 and "hours" in too_long.json()
    with on_commit():
        deleted = api.post(f"/api/resources/{resource.uuid}/delete/")
    assert deleted.status_code == 202 and deleted.json()["kind"] == "teardown"
    assert api.get(f"/api/resources/{resource.uuid}/").json()["state"] == "deleted"
    assert api.post(f"/api/resources/{resource.uuid}/delete/").status_code == 409


def test_cancelling_a_finished_run_is_a_conflict(ready, api_as, bob):
    run = ready.runs.get()
    answer = api_as(bob).post(f"/api/runs/{run.uuid}/cancel/")
    assert answer.status_code == 409 and "succeeded" in answer.json()["detail"]


def test_runbooks_through_the_api(oncall, bob, receiver, api_as, on_commit, team):
    publish_runbook(receiver.script("/ping", 200), riskTier="high")
    api = api_as(oncall)
    assert [r["slug"] for r in api.get("/api/runbooks/").json()["results"]] == ["ping-service"]
    bad = api.post("/api/runbooks/ping-service/run/", {"parameters": {}}, format="json")
    assert bad.status_code == 400 and "service" in bad.json()["parameters"]
    started = api.post(
        "/api/runbooks/ping-service/run/",
        {"team": "payments", "parameters": {"service": "api"}},
        format="json",
    )
    assert started.status_code == 201 and started.json()["state"] == "pending_approval"
    uuid = started.json()["uuid"]
    assert api.post(f"/api/runbook-runs/{uuid}/approve/").status_code == 403
    member = api_as(bob)
    assert member.get(f"/api/runbook-runs/{uuid}/").status_code == 200  # their team's run
    assert member.post(f"/api/runbook-runs/{uuid}/approve/").status_code == 403
    assert member.get("/api/runbook-runs/?state=succeeded").json()["count"] == 0


def test_the_schema_describes_the_engine(api_as, bob):
    schema = api_as(bob).get("/api/schema/?format=json").json()
    for path in (
        "/api/runs/",
        "/api/runs/{uuid}/cancel/",
        "/api/steps/{uuid}/",
        "/api/resources/{uuid}/extend/",
        "/api/resources/{uuid}/reveal-secret/",
        "/api/runbooks/{slug}/run/",
        "/api/runbook-runs/{uuid}/approve/",
        "/api/orphan-findings/",
    ):
        assert path in schema["paths"], path


# --- pages -----------------------------------------------------------------------------------


def test_the_request_page_shows_the_run_live_with_logs_and_durations(ready, client, bob):
    client.force_login(bob)
    page = client.get(f"/requests/{ready.uuid}/").content.decode()
    assert 'id="run"' in page and "Provision run" in page and "Succeeded" in page
    assert "Step grant" in page and "Step ns" in page and " ms</td>" in page
    assert "attempt 1: apply access.grant" in page  # the step's log
    assert "kind: Namespace" in page  # the artifact
    assert f'href="/resources/{Resource.objects.get(kind="access.grant").uuid}/"' in page


def test_the_request_page_polls_while_a_run_is_open(
    engine_template, submit_request_only, client, bob
):
    request = submit_request_only()
    client.force_login(bob)
    live = client.get(f"/requests/{request.uuid}/timeline/").content.decode()
    assert 'hx-trigger="every 2s"' in live and "Pending" in live


@pytest.fixture
def submit_request_only(engine_template, bob, team):
    """A request whose run started but whose steps were not executed (commit not run)."""
    from catalog.services import request_submit
    from provisioning.services import run_start_provision

    engine_template(grant_step())

    def file():
        request = request_submit(
            actor=bob, template="engine", team=team, parameters={"name": "payments-one"}
        )
        run_start_provision(request_id=request.pk)
        return request

    return file


def test_a_running_run_can_be_cancelled_from_the_page(submit_request_only, client, bob, on_commit):
    request = submit_request_only()
    client.force_login(bob)
    page = client.get(f"/requests/{request.uuid}/").content.decode()
    run = request.runs.get()
    assert f'action="/runs/{run.uuid}/cancel/"' in page
    with on_commit():
        response = client.post(f"/runs/{run.uuid}/cancel/")
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.state == "cancelled"


def test_resource_pages_for_owners(ready, client, alice, charlie, on_commit):
    resource = Resource.objects.get(kind="kubernetes.namespace")
    client.force_login(alice)
    listing = client.get("/resources/").content.decode()
    assert "payments-one" in listing and "2 resources" in listing
    page = client.get(f"/resources/{resource.uuid}/").content.decode()
    for text in ("CC-PAY", "engine 1.0.0", "Extend", "Delete now", "bob"):
        assert text in page, text
    response = client.post(f"/resources/{resource.uuid}/extend/", {"hours": 2})
    assert response.status_code == 302
    refused = client.post(f"/resources/{resource.uuid}/extend/", {"hours": 5000}, follow=True)
    assert "allows resources until" in refused.content.decode()
    with on_commit():
        client.post(f"/resources/{resource.uuid}/delete/")
    resource.refresh_from_db()
    assert resource.state == "deleted"
    client.force_login(charlie)
    assert client.get(f"/resources/{resource.uuid}/").status_code == 404
    assert client.post(f"/resources/{resource.uuid}/delete/").status_code == 404


def test_runbook_pages_run_and_decide(oncall, receiver, client, on_commit, db):
    from tests.factories import user_in_group

    publish_runbook(receiver.script("/ping", 200), riskTier="high")
    client.force_login(oncall)
    assert "Ping a service" in client.get("/runbooks/").content.decode()
    form = client.get("/runbooks/ping-service/").content.decode()
    assert 'name="param_service"' in form and "Run Ping a service" in form
    invalid = client.post("/runbooks/ping-service/run/", {"param_service": "NOT OK"})
    assert invalid.status_code == 200 and "did not run" in invalid.content.decode()
    started = client.post("/runbooks/ping-service/run/", {"param_service": "api"})
    run_page = client.get(started["Location"]).content.decode()
    assert "Pending approval" in run_page and "Approve" not in run_page
    client.force_login(user_in_group("peer", "oncall"))
    run_page = client.get(started["Location"]).content.decode()
    assert "Approve" in run_page
    with on_commit():
        client.post(started["Location"] + "approve/", {"comment": "ok"})
    run_page = client.get(started["Location"]).content.decode()
    assert "Succeeded" in run_page and "Verification passed" in run_page


def test_the_run_button_partial_for_other_pages(oncall, receiver, on_commit):
    runbook = publish_runbook(receiver.script("/ping", 200))
    request = RequestFactory().get("/dashboards/oncall/")
    request.user = oncall
    html = render_to_string(
        "provisioning/_runbook_button.html",
        {"runbook": runbook, "params": {"service": "checkout"}, "team": "payments"},
        request=request,
    )
    assert 'action="/runbooks/ping-service/run/"' in html
    assert 'name="param_service" value="checkout"' in html and "csrfmiddlewaretoken" in html
    assert Runbook.objects.count() == 1


def test_runbook_runs_record_what_the_remediation_metric_reads(oncall, receiver, on_commit):
    publish_runbook(receiver.script("/ping", 200))
    with on_commit():
        run = runbook_run_start(actor=oncall, runbook="ping-service", parameters={"service": "x"})
    run.refresh_from_db()
    assert (run.state, run.by_oncall, run.runbook.slug) == ("succeeded", True, "ping-service")
    assert run.started_at <= run.finished_at


def test_webhook_step_in_a_template_is_shown_with_its_answer(
    provision, engine_template, receiver, client, bob
):
    engine_template(webhook_step("notify", receiver.script("/hook", 201)))
    request = provision()
    client.force_login(bob)
    page = client.get(f"/requests/{request.uuid}/").content.decode()
    assert ": 201" in page
