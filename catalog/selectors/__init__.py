"""Reads for catalog pages and API, scoped to what the caller may see (one module per concern,
re-exported here)."""

from catalog.selectors.freezes import RequestTarget, request_target
from catalog.selectors.requests import (
    TimelineEntry,
    approval_inbox,
    decision_list,
    policy_list,
    request_approvals_given,
    request_list_visible,
    request_timeline,
    team_usage,
    template_list,
    waiting_on_others,
)

__all__ = [
    "RequestTarget",
    "TimelineEntry",
    "request_target",
    "approval_inbox",
    "decision_list",
    "policy_list",
    "request_approvals_given",
    "request_list_visible",
    "request_timeline",
    "team_usage",
    "template_list",
    "waiting_on_others",
]
