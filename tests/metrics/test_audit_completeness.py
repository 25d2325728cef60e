"""M11: every state transition should have its audit event; the reconciliation job names each
one that has not."""

import io

import pytest
from django.core.management import CommandError, call_command

from audit.models import AuditEvent
from catalog.models import Approval, RequestTransition
from core.models import JobRun
from metrics import tasks
from metrics.compute import metric_compute
from metrics.models import AuditGap
from metrics.periods import period_containing
from tests.metrics.conftest import AFTER, DAY, moment

pytestmark = pytest.mark.django_db


def m11():
    outcome = metric_compute("M11", period_containing("day", DAY), AFTER)
    return outcome, {(f.team_id, f.dimension): f for f in outcome.figures}


def test_transitions_made_through_the_services_are_all_audited(scenario):
    outcome, got = m11()
    overall = got[None, ""]
    # R1, R2, R4: submitted, approved, provisioning, ready; R3: + pending_approval; R6:
    # submitted, pending_approval, rejected — and carol's two approvals (R3 approved, R6 rejected)
    assert overall.value == 1.0
    assert got[None, "request"].extras["transitions"] == 4 * 3 + 5 + 3
    assert got[None, "approval"].extras["transitions"] == 2
    assert tasks.audit_completeness() == [] and not AuditGap.objects.exists()


def test_the_job_names_a_transition_whose_audit_event_is_missing(scenario):
    r1 = scenario["R1"]
    ghost = RequestTransition.objects.create(
        request=r1, from_state="ready", to_state="expired", reason="no event", audit_seq=999_999
    )
    RequestTransition.objects.filter(pk=ghost.pk).update(created_at=moment(20))
    found = tasks.audit_completeness()
    expected = (
        f"request transition #{ghost.pk} (ready → expired) of request {r1.uuid}: "
        f"its audit event #999999 (request.expired) is missing"
    )
    assert found == [expected]
    gap = AuditGap.objects.get()
    assert (gap.kind, gap.record, gap.expected, gap.team_id) == (
        "request",
        str(ghost.pk),
        "request.expired",
        r1.team_id,
    )
    event = AuditEvent.objects.get(action="audit.gap_found")
    assert event.payload["problem"] == expected
    assert tasks.audit_completeness() == []  # named once, not again
    assert AuditGap.objects.count() == 1
    assert JobRun.objects.filter(name="metrics.tasks.audit_completeness", outcome="ok").count() == 2
    _, got = m11()
    assert got[None, "request"].value == pytest.approx(20 / 21)
    assert got[None, ""].extras["gaps"] == [expected]


def test_an_event_of_the_wrong_kind_and_an_unaudited_approval_are_named(scenario, carol):
    r2 = scenario["R2"]
    cancelled_event = AuditEvent.objects.filter(action="request.submitted").first()
    wrong = RequestTransition.objects.create(
        request=r2, from_state="ready", to_state="deleted", audit_seq=cancelled_event.seq
    )
    unaudited = Approval.objects.create(request=r2, approver=carol, decision="approved")
    RequestTransition.objects.filter(pk=wrong.pk).update(created_at=moment(21))
    Approval.objects.filter(pk=unaudited.pk).update(created_at=moment(21))
    problems = sorted(tasks.audit_completeness())
    assert any(
        f"request transition #{wrong.pk}" in p
        and f"audit event #{cancelled_event.seq} is request.submitted" in p
        and "expected request.deleted" in p
        for p in problems
    )
    assert f"approval #{unaudited.pk} (approved by user {carol.pk}) of request {r2.uuid}" in (
        " ".join(problems)
    )


def test_the_command_lists_the_gaps_and_fails(scenario):
    RequestTransition.objects.create(
        request=scenario["R4"], from_state="ready", to_state="expired", audit_seq=None
    )
    out = io.StringIO()
    with pytest.raises(CommandError, match="audit events are missing"):
        call_command("audit_completeness", stdout=out)
    assert "has no audit event recorded (audit_seq is empty)" in out.getvalue()
    assert "1 gap(s), 1 new" in out.getvalue()


def test_the_command_passes_when_nothing_is_missing(scenario):
    out = io.StringIO()
    call_command("audit_completeness", "--since", "2026-01-01", stdout=out)
    assert "0 gap(s)" in out.getvalue()
