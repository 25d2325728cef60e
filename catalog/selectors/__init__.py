"""Reads for catalog pages and API, scoped to what the caller may see (one module per concern,
re-exported here)."""

from catalog.selectors.provisioning import (
    orphan_report,
    resource_list_visible,
    run_list_visible,
    run_panel,
    runbook_list,
    runbook_run_list_visible,
    step_list_visible,
)
from catalog.selectors.requests import (
    TimelineEntry,
    approval_inbox,
    decision_list,
    policy_list,
    request_approvals_given,
    request_list_visible,
    request_timeline,
    team_list_requestable,
    team_list_visible,
    team_usage,
    template_list,
    waiting_on_others,
)

__all__ = [
    "TimelineEntry",
    "approval_inbox",
    "decision_list",
    "orphan_report",
    "policy_list",
    "request_approvals_given",
    "request_list_visible",
    "request_timeline",
    "resource_list_visible",
    "run_list_visible",
    "run_panel",
    "runbook_list",
    "runbook_run_list_visible",
    "step_list_visible",
    "team_list_requestable",
    "team_list_visible",
    "team_usage",
    "template_list",
    "waiting_on_others",
]
