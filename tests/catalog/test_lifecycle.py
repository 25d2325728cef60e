"""The state machine as data: every state known, edges as the issue lists them."""

import pytest

from catalog import lifecycle
from catalog.choices import RequestState


def test_the_machine_knows_exactly_the_request_states():
    assert set(RequestState.values) == lifecycle.STATES


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("submitted", "denied"),
        ("submitted", "pending_approval"),
        ("submitted", "approved"),
        ("pending_approval", "approved"),
        ("pending_approval", "rejected"),
        ("pending_approval", "expired"),
        ("pending_approval", "cancelled"),
        ("approved", "provisioning"),
        ("provisioning", "ready"),
        ("provisioning", "failed"),
        ("failed", "rolled_back"),
        ("ready", "expired"),
        ("ready", "deleted"),
        ("rolled_back", "deleted"),
        ("expired", "deleted"),
    ],
)
def test_the_issues_edges_are_allowed(source, target):
    lifecycle.check_transition(source, target)


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("submitted", "provisioning"),
        ("pending_approval", "provisioning"),
        ("denied", "approved"),
        ("rejected", "approved"),
        ("ready", "provisioning"),
        ("deleted", "ready"),
        ("submitted", "nonsense"),
    ],
)
def test_other_moves_are_refused_with_the_allowed_ones_named(source, target):
    with pytest.raises(lifecycle.TransitionError, match="cannot go|not a request state"):
        lifecycle.check_transition(source, target)


def test_final_states_have_no_way_out():
    assert {"denied", "rejected", "cancelled", "deleted"} == lifecycle.TERMINAL


@pytest.mark.parametrize(
    ("source", "target", "released"),
    [
        ("pending_approval", "rejected", True),
        ("pending_approval", "cancelled", True),
        ("pending_approval", "expired", True),
        ("provisioning", "failed", True),
        ("ready", "deleted", True),
        ("ready", "expired", False),
        ("approved", "provisioning", False),
        ("submitted", "denied", False),
    ],
)
def test_reservations_come_back_on_rejection_failure_and_deletion(source, target, released):
    assert lifecycle.releases_reservation(source, target) is released


def test_approvals_follow_the_risk_tier_and_never_go_below_it():
    assert [lifecycle.approvals_needed(t) for t in ("low", "medium", "high")] == [0, 1, 2]
    assert lifecycle.approvals_needed("low", template_minimum=1) == 1
    assert lifecycle.higher_tier("low", "", "high", "medium") == "high"
    assert lifecycle.higher_tier(None, "") == "low"
