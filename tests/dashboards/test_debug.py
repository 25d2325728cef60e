"""The debug dashboard of a request: its trace as a waterfall of stored spans (web, policy,
Celery, backend), its timeline, and its audit events each checked in the hash chain."""

from datetime import timedelta

import pytest

from audit.services import audit_checkpoint_create, audit_record
from core.models import TraceSpan
from core.telemetry import tracer
from tests.dashboards import data
from tests.helpers import append_only_triggers_removed, raw

pytestmark = pytest.mark.django_db


def add_trace(item, actions=("request.submitted", "request.approved", "request.provisioning")):
    """Audit events of the request written inside one trace, and that trace's spans as the
    db exporter would have stored them."""
    with tracer().start_as_current_span("test"):
        events = [audit_record(action=a, obj=item, team=item.team) for a in actions]
    trace_id = events[0].content["trace_id"]
    start = item.created_at
    spans = [
        ("0000000000000001", "", "POST api/requests/", "SERVER", 0, 120, {}),
        ("0000000000000002", "0000000000000001", "policy.evaluate", "INTERNAL", 10, 4, {}),
        (
            "0000000000000003",
            "0000000000000001",
            "run/provisioning.tasks.provision_request",
            "CONSUMER",
            40,
            70,
            {"celery.task_name": "provisioning.tasks.provision_request"},
        ),
        (
            "0000000000000004",
            "0000000000000003",
            "kubernetes create namespace",
            "CLIENT",
            50,
            30,
            {"ssops.backend": "kubernetes"},
        ),
    ]
    for span_id, parent, name, kind, offset, length, attributes in spans:
        TraceSpan.objects.create(
            trace_id=trace_id,
            span_id=span_id,
            parent_id=parent,
            name=name,
            kind=kind,
            start=start + timedelta(milliseconds=offset),
            end=start + timedelta(milliseconds=offset + length),
            duration_ms=length,
            status="ERROR" if kind == "CLIENT" else "UNSET",
            attributes=attributes,
        )
    return trace_id


@pytest.fixture
def item(team, bob):
    return data.add_requests(team, bob, 1)[0]


def url(item) -> str:
    return f"/dashboards/debug/{item.uuid}/"


def test_it_draws_the_trace_as_a_waterfall_of_every_layer(client, bob, item):
    trace_id = add_trace(item)
    client.force_login(bob)
    page = client.get(url(item)).content.decode()
    assert 'id="chart-trace-waterfall"' in page
    for layer in ("web", "policy", "Celery", "backend"):
        assert f"<td>{layer}</td>" in page
    assert "· · kubernetes create namespace" in page  # indented under its parent
    assert "· policy guard v1: allow" in page  # a recorded decision, under the web request
    assert "<td>policy decision</td>" in page and "<td>OpenTelemetry</td>" in page
    assert '<span class="badge bad">ERROR</span>' in page
    assert trace_id[:8] in page


def test_every_audit_event_is_checked_in_the_chain(client, bob, item):
    add_trace(item)
    client.force_login(bob)
    page = client.get(url(item)).content.decode()
    assert page.count('<span class="badge ok">verified</span>') == 3
    assert "chain verified" in page and "No signed checkpoint covers them yet" in page
    audit_checkpoint_create()
    page = client.get(url(item)).content.decode()
    assert "verifies and matches the chain" in page


def test_a_changed_event_is_shown_broken(client, bob, item):
    add_trace(item)
    with append_only_triggers_removed():
        raw(
            "UPDATE audit_auditevent SET body = replace(body, 'request.approved', "
            "'request.rejected') WHERE body LIKE %s",
            ["%request.approved%"],
        )
    client.force_login(bob)
    page = client.get(url(item)).content.decode()
    assert "chain broken" in page
    assert "broken: its content no longer matches its hash: it was changed" in page
    assert page.count('<span class="badge ok">verified</span>') == 2


def test_a_checkpoint_that_no_longer_matches_is_named(client, bob, item):
    add_trace(item)
    checkpoint = audit_checkpoint_create()
    with append_only_triggers_removed():
        raw("UPDATE audit_auditcheckpoint SET head_hash = %s", ["0" * 64])
    client.force_login(bob)
    page = client.get(url(item)).content.decode()
    assert f"the signed checkpoint of {checkpoint.signed_at} does not match" in page


def test_the_timeline_shows_each_state(client, bob, item):
    client.force_login(bob)
    page = client.get(url(item)).content.decode()
    assert 'id="chart-request-timeline"' in page
    rows = client.get(url(item) + "?format=csv&table=timeline").content.decode().splitlines()
    assert rows[0] == "time,kind,state,by,why,audit seq"
    assert [row.split(",")[2] for row in rows[1:]] == ["submitted", "ready"]


def test_without_a_trace_it_says_how_to_record_one(client, bob, item):
    client.force_login(bob)
    page = client.get(url(item)).content.decode()
    assert "No trace is recorded for this request" in page
    assert "OTEL_TRACES_EXPORTER=db" in page


def test_only_those_who_may_see_the_request_get_its_page(
    client, bob, charlie, executive, oncall, item
):
    client.force_login(charlie)
    assert client.get(url(item)).status_code == 404
    for user in (bob, executive, oncall):
        client.force_login(user)
        assert client.get(url(item)).status_code == 200


def test_spans_and_events_export_as_csv(client, bob, item):
    add_trace(item)
    client.force_login(bob)
    spans = client.get(url(item) + "?format=csv&table=spans").content.decode().splitlines()
    assert spans[0] == "#,span,layer,source,kind,starts at ms,duration ms,status,trace"
    assert len(spans) == 1 + 4 + 2  # four stored spans, two policy decisions
    events = client.get(url(item) + "?format=csv&table=audit-events").content.decode()
    assert events.count(",verified") == 3


def test_its_query_count_is_constant_as_the_trail_grows(
    client, bob, item, queries_of, django_assert_num_queries
):
    add_trace(item)
    data.add_run(item)
    client.force_login(bob)
    small = queries_of(url(item))
    for _ in range(5):
        add_trace(item, actions=[f"request.note{n}" for n in range(10)])
    data.add_requests(item.team, bob, 20)
    data.add_run(item, state="running", kind="teardown")  # a second run of the request
    with django_assert_num_queries(small):
        client.get(url(item))
    assert small <= 16


def test_the_runs_steps_show_on_a_timeline_with_their_figures_and_logs(client, bob, item):
    data.add_run(item)
    client.force_login(bob)
    page = client.get(url(item)).content.decode()
    assert 'id="chart-run-steps"' in page
    assert "Provision run" in page and "step db failed: role exists" in page
    assert "Log of provision 2. DB (failed: role exists)" in page
    assert "error   role exists" in page
    rows = client.get(url(item) + "?format=csv&table=run-steps").content.decode().splitlines()
    assert rows[0] == ("run,#,step,action,operation,state,attempts,started,waited ms,took ms,error")
    assert rows[2].split(",")[1:] == [
        "2",
        "DB",
        "postgres.database",
        "apply",
        "failed",
        "3",
        rows[2].split(",")[7],
        "1000.0",
        "30000.0",
        "role exists",
    ]


def test_the_runs_and_steps_audit_events_are_checked_too(client, bob, item):
    run = data.add_run(item)
    audit_record(action="run.failed", obj=run, team=item.team)
    audit_record(action="step.failed", obj=run.steps.get(position=2), team=item.team)
    client.force_login(bob)
    events = client.get(url(item) + "?format=csv&table=audit-events").content.decode()
    assert ",run.failed," in events and ",step.failed," in events
    assert events.count(",verified") == 2


def test_a_request_that_never_reached_provisioning_says_so(client, bob, team):
    denied = [r for r in data.add_requests(team, bob, 4) if r.state == "denied"][0]
    client.force_login(bob)
    page = client.get(url(denied)).content.decode()
    assert "No provisioning run: the request ended denied before provisioning." in page


def test_recorded_step_timings_join_the_waterfall_without_any_trace(client, bob, item):
    data.add_run(item)
    client.force_login(bob)
    page = client.get(url(item)).content.decode()
    assert 'id="chart-trace-waterfall"' in page
    assert "apply postgres.database (DB)" in page and "<td>run step</td>" in page
    assert "No trace is recorded for this request" in page
