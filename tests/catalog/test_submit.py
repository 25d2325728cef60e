"""Submitting requests: validated before anything is written or reserved; the exact version
is recorded; low risk is approved and handed to provisioning at once, medium risk waits."""

from unittest import mock

import pytest

from audit.models import AuditEvent
from catalog.models import PolicyDecision, Request, Reservation
from catalog.services import RequestInvalid, request_submit, template_version_deprecate
from tests.catalog.conftest import publish, template_document

pytestmark = pytest.mark.django_db


def body(**overrides):
    return {"template": "widget", "team": "payments", "parameters": {"name": "one"}, **overrides}


def nothing_written():
    assert not Request.objects.exists()
    assert not Reservation.objects.exists()
    assert not PolicyDecision.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="request.").exists()


def test_invalid_parameters_give_400_with_field_errors_and_reserve_nothing(
    api_as, bob, widget, demo_policies
):
    response = api_as(bob).post(
        "/api/requests/",
        body(parameters={"name": "Not Valid", "cpu": 50, "colour": "red"}, ttl_hours=1000),
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "parameters": {
            "name": ["Use the expected format (^[a-z][a-z0-9-]*$)."],
            "cpu": ["Use 100 or more."],
            "non_field_errors": ["Additional properties are not allowed ('colour' was unexpected)"],
        },
        "ttl_hours": ["Use 168 hours or less for this template."],
    }
    nothing_written()


def test_a_missing_parameter_and_a_wrong_type_are_field_errors(api_as, bob, widget):
    response = api_as(bob).post("/api/requests/", body(parameters={"cpu": "lots"}), format="json")
    assert response.status_code == 400
    assert response.json()["parameters"] == {
        "name": ["This field is required."],
        "cpu": ["Enter a whole number."],
    }
    nothing_written()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"template": "nope"}, "template", "There is no template 'nope'."),
        ({"version": "9.9.9"}, "version", "widget has no version '9.9.9'."),
        ({"team": "nope"}, "team", "There is no team 'nope'."),
        ({"parameters": []}, "parameters", "Expected a dictionary of items"),
    ],
)
def test_unknown_things_are_400(api_as, bob, widget, overrides, field, message):
    response = api_as(bob).post("/api/requests/", body(**overrides), format="json")
    assert response.status_code == 400
    assert message in str(response.json()[field])
    nothing_written()


def test_only_members_file_for_a_team(api_as, charlie, team, widget):
    response = api_as(charlie).post("/api/requests/", body(), format="json")
    assert response.status_code == 403
    assert response.json()["detail"] == "You are not a member of team payments."
    nothing_written()


def test_a_low_risk_request_is_approved_and_handed_to_provisioning(
    api_as, bob, widget, django_capture_on_commit_callbacks
):
    with (
        mock.patch("provisioning.tasks.provision_request.delay") as enqueue,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = api_as(bob).post("/api/requests/", body(), format="json")
    assert response.status_code == 201
    created = response.json()
    assert (created["state"], created["risk_tier"], created["required_approvals"]) == (
        "provisioning",
        "low",
        0,
    )
    assert (created["template"], created["version"], created["requester"]) == (
        "widget",
        "1.0.0",
        "bob",
    )
    request = Request.objects.get(uuid=created["uuid"])
    enqueue.assert_called_once_with(request.pk)
    assert [t.to_state for t in request.transitions.all()] == [
        "submitted",
        "approved",
        "provisioning",
    ]
    assert request.expires_at is not None


def test_the_hand_off_runs_the_provisioning_engine_on_commit(
    submit, widget, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        request = submit()  # tests run Celery eagerly: the engine runs on commit
    request.refresh_from_db()
    assert request.state == "ready"
    assert request.runs.get().state == "succeeded"


def test_a_medium_risk_request_waits_for_approval(
    api_as, bob, gadget, django_capture_on_commit_callbacks
):
    with (
        mock.patch("provisioning.tasks.provision_request.delay") as enqueue,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = api_as(bob).post("/api/requests/", body(template="gadget"), format="json")
    created = response.json()
    assert created["state"] == "pending_approval" and created["required_approvals"] == 1
    assert created["approval_due_at"]
    enqueue.assert_not_called()
    assert Reservation.objects.get(request__uuid=created["uuid"]).state == "active"


def test_each_request_records_the_exact_version_and_deprecated_ones_are_refused(submit, widget):
    newer = publish(template_document("widget", version="1.1.0"))
    assert submit().template_version == newer
    assert submit(version="1.0.0").template_version == widget
    template_version_deprecate(actor=None, version=widget, reason="use 1.1")
    with pytest.raises(RequestInvalid) as refused:
        submit(version="1.0.0")
    assert refused.value.errors == {"version": ["widget@1.0.0 is deprecated: use 1.1"]}


def test_parameters_defaults_feed_the_reservation(submit, widget):
    request = submit(parameters={"name": "defaults"})
    assert request.reservation.cpu_millicores == 500
    assert str(request.reservation.cost) == "2.40"  # 73 a month for 24 of 730 hours


def test_the_service_can_be_called_with_objects(bob, team, widget):
    request = request_submit(actor=bob, template=widget, team=team, parameters={"name": "x"})
    assert request.team == team and request.template_version == widget


def test_the_api_lists_only_what_the_caller_may_see(api_as, submit, widget, charlie, executive):
    mine = submit()
    assert api_as(charlie).get("/api/requests/").json()["count"] == 0
    assert api_as(charlie).get(f"/api/requests/{mine.uuid}/").status_code == 404
    assert api_as(executive).get("/api/requests/").json()["count"] == 1
    detail = api_as(executive).get(f"/api/requests/{mine.uuid}/").json()
    assert [t["to_state"] for t in detail["transitions"]] == [
        "submitted",
        "approved",
        "provisioning",
    ]
    assert detail["reservation"]["kind"] == "widget"
