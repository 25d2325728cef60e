"""The request state machine and the approval rules, as plain data (no Django imports).

    submitted ─► denied
              ├► pending_approval ─► approved | rejected | expired | cancelled
              └► approved ─► provisioning ─► ready ─► expired ─► deleted
                          └► cancelled               └► deleted
                                         └► failed ─► rolled_back ─► deleted
                                                   └► deleted

`catalog.services.request_transition` is the only code that moves a request along these edges.
"""

from __future__ import annotations

SUBMITTED = "submitted"
DENIED = "denied"
PENDING_APPROVAL = "pending_approval"
APPROVED = "approved"
REJECTED = "rejected"
EXPIRED = "expired"
CANCELLED = "cancelled"
PROVISIONING = "provisioning"
READY = "ready"
FAILED = "failed"
ROLLED_BACK = "rolled_back"
DELETED = "deleted"

TRANSITIONS: dict[str, frozenset[str]] = {
    SUBMITTED: frozenset({DENIED, PENDING_APPROVAL, APPROVED}),
    PENDING_APPROVAL: frozenset({APPROVED, REJECTED, EXPIRED, CANCELLED}),
    APPROVED: frozenset({PROVISIONING, CANCELLED}),
    PROVISIONING: frozenset({READY, FAILED}),
    READY: frozenset({EXPIRED, DELETED}),
    FAILED: frozenset({ROLLED_BACK, DELETED}),
    ROLLED_BACK: frozenset({DELETED}),
    EXPIRED: frozenset({DELETED}),
    DENIED: frozenset(),
    REJECTED: frozenset(),
    CANCELLED: frozenset(),
    DELETED: frozenset(),
}
STATES = frozenset(TRANSITIONS)
TERMINAL = frozenset(state for state, targets in TRANSITIONS.items() if not targets)
# States in which something may still happen soon: pages poll while a request is in one.
LIVE = frozenset({SUBMITTED, PENDING_APPROVAL, APPROVED, PROVISIONING, FAILED})
# States whose request holds (or may hold) resources, so its reservation stays active.
HOLDS_RESOURCES = frozenset({SUBMITTED, PENDING_APPROVAL, APPROVED, PROVISIONING, READY, EXPIRED})

TIERS = ("low", "medium", "high")
APPROVALS_BY_TIER = {"low": 0, "medium": 1, "high": 2}


class TransitionError(ValueError):
    """A move the state machine does not allow (the message says which)."""


def check_transition(from_state: str, to_state: str) -> None:
    if to_state not in STATES:
        raise TransitionError(f"{to_state!r} is not a request state")
    if to_state not in TRANSITIONS.get(from_state, frozenset()):
        allowed = ", ".join(sorted(TRANSITIONS.get(from_state, ()))) or "none (final state)"
        raise TransitionError(
            f"a request cannot go from {from_state} to {to_state}; allowed: {allowed}"
        )


def releases_reservation(from_state: str, to_state: str) -> bool:
    """Quota and budget come back on rejection, cancellation, failure and deletion,
    and when an approval expires; a ready request that reaches its TTL keeps them until its
    resources are deleted."""
    if to_state == EXPIRED:
        return from_state == PENDING_APPROVAL
    if to_state == DENIED:
        return False  # a denial comes before anything is reserved
    return to_state not in HOLDS_RESOURCES


def higher_tier(*tiers: str | None) -> str:
    """The highest of the given risk tiers (unknown or empty values are ignored)."""
    ranked = [TIERS.index(tier) for tier in tiers if tier in TIERS]
    return TIERS[max(ranked)] if ranked else TIERS[0]


def approvals_needed(tier: str, template_minimum: int = 0) -> int:
    """Low: automatic; medium: one approver; high: two distinct approvers (or the template's
    own minimum when it asks for more)."""
    return max(APPROVALS_BY_TIER[tier], template_minimum)
