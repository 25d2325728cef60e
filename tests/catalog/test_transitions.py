"""Every transition goes through request_transition and is audited in the same transaction,
with the policy decisions, the reservation and the approvals attached."""

import datetime as dt
from unittest import mock

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from audit.verify import verify_chain
from catalog import lifecycle
from catalog.models import Request, RequestTransition
from catalog.services import (
    TransitionNotAllowed,
    request_approve,
    request_cancel,
    request_mark_deleted,
    request_mark_failed,
    request_mark_ready,
    request_mark_rolled_back,
    request_reject,
    request_transition,
    requests_expire_due,
)

pytestmark = pytest.mark.django_db


def later(hours):
    return timezone.now() + dt.timedelta(hours=hours)


@pytest.fixture
def every_path(submit, widget, gadget, vault, carol, alice, make_policy):
    """Requests that, together, take every edge of the state machine."""
    make_policy("no-prod", 'deny contains "not prod" if input.request.parameters.name == "prod"')
    submit("widget", parameters={"name": "prod"})
    ready = submit("gadget")
    ready = request_approve(request=ready, actor=carol)
    request_mark_ready(request=ready, outputs={"namespace": "x"})
    requests_expire_due(now=later(10_000))  # its TTL ends: ready → expired
    ready.refresh_from_db()
    request_mark_deleted(request=ready)
    deleted_ready = submit("widget")
    request_mark_ready(request=deleted_ready, outputs={})
    request_mark_deleted(request=deleted_ready)
    failed = submit("widget")
    request_mark_failed(request=failed, error="step 1 failed")
    request_mark_rolled_back(request=failed)
    request_mark_deleted(request=failed)
    failed_deleted = submit("widget")
    request_mark_failed(request=failed_deleted, error="boom")
    request_mark_deleted(request=failed_deleted)
    rejected = submit("vault")
    request_reject(request=rejected, actor=carol, comment="not now")
    cancelled = submit("gadget")
    request_cancel(request=cancelled, actor=cancelled.requester)
    overdue = submit("gadget")
    Request.objects.filter(pk=overdue.pk).update(
        approval_due_at=later(-2), approval_expires_at=later(-1)
    )
    requests_expire_due()
    approved_then_cancelled = submit("gadget")
    request_transition(request=approved_then_cancelled, to_state="approved", actor=alice)
    request_transition(request=approved_then_cancelled, to_state="cancelled", actor=alice)
    return Request.objects.all()


def test_every_edge_is_taken_and_each_has_its_audit_event(every_path):
    transitions = list(RequestTransition.objects.select_related("request"))
    edges = {(t.from_state, t.to_state) for t in transitions}
    expected = {(a, b) for a, targets in lifecycle.TRANSITIONS.items() for b in targets}
    assert expected | {("", "submitted")} == edges
    events = {e.seq: e for e in AuditEvent.objects.filter(action__startswith="request.")}
    for transition in transitions:
        event = events[transition.audit_seq]
        assert event.action == f"request.{transition.to_state}"
        assert event.object_id == str(transition.request.uuid)
        assert event.team_id == transition.request.team_id
        payload = event.payload
        assert (payload["from"], payload["to"]) == (transition.from_state, transition.to_state)
        assert {"decisions", "reservation", "approvals", "risk_tier", "version"} <= set(payload)
    assert verify_chain().ok


def test_the_attachments_say_what_was_decided_reserved_and_approved(
    submit, gadget, carol, demo_policies
):
    request = submit("gadget")
    request_approve(request=request, actor=carol, comment="fine")
    approved = AuditEvent.objects.get(action="request.approved")
    assert approved.payload["approvals"] == [{"by": "carol", "decision": "approved"}]
    assert approved.payload["reservation"]["kind"] == "widget"
    assert {d["policy"] for d in approved.payload["decisions"]} == {
        "budget-guard",
        "elevated-access-limits",
        "error-budget-freeze",
        "naming-convention",
        "production-changes",
    }
    assert approved.actor_name == "carol"
    pending = AuditEvent.objects.get(action="request.pending_approval")
    assert pending.actor_name == "system" and pending.payload["reservation"]["state"] == "active"


def test_a_move_the_machine_does_not_allow_writes_nothing(submit, widget):
    request = submit()
    before = AuditEvent.objects.count()
    with pytest.raises(TransitionNotAllowed, match="cannot go from provisioning to approved"):
        request_transition(request=request, to_state="approved", actor=None)
    assert AuditEvent.objects.count() == before
    request.refresh_from_db()
    assert request.state == "provisioning"


def test_a_stale_copy_cannot_take_a_second_edge(submit, gadget, bob):
    request = submit("gadget")
    stale = Request.objects.get(pk=request.pk)
    request_cancel(request=request, actor=bob)
    with pytest.raises(TransitionNotAllowed, match="the request is cancelled now"):
        request_transition(request=stale, to_state="approved", actor=None)
    assert [t.to_state for t in request.transitions.all()][-1] == "cancelled"


def test_the_audit_event_and_the_state_change_commit_or_fail_together(submit, gadget, bob):
    request = submit("gadget")
    before = AuditEvent.objects.count()
    with (
        mock.patch.object(RequestTransition, "save", side_effect=RuntimeError("disk")),
        pytest.raises(RuntimeError),
    ):
        request_cancel(request=request, actor=bob)
    request.refresh_from_db()
    assert request.state == "pending_approval"
    assert AuditEvent.objects.count() == before
    assert request.reservation.state == "active"
