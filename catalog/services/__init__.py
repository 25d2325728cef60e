"""Audited writes of the catalog (one module per concern, re-exported here).

Every function is atomic, records its audit event in the same transaction, takes the acting
user as `actor=` and sends side effects (tasks, e-mail, webhooks) only on commit.
"""

from catalog.services.approvals import (
    request_approve,
    request_break_glass,
    request_cancel,
    request_reject,
)
from catalog.services.handoff import (
    request_mark_deleted,
    request_mark_failed,
    request_mark_ready,
    request_mark_rolled_back,
    request_start_provisioning,
    requests_expire_due,
)
from catalog.services.nudges import approvals_nudge
from catalog.services.policies import (
    policies_evaluate,
    policy_problems,
    policy_restore,
    policy_save,
)
from catalog.services.quotas import budget_set, quota_set
from catalog.services.requests import RequestInvalid, request_submit
from catalog.services.teams import membership_set, team_create
from catalog.services.templates import template_publish, template_version_deprecate
from catalog.services.transitions import TransitionNotAllowed, request_transition

__all__ = [
    "RequestInvalid",
    "TransitionNotAllowed",
    "approvals_nudge",
    "budget_set",
    "membership_set",
    "policies_evaluate",
    "policy_problems",
    "policy_restore",
    "policy_save",
    "quota_set",
    "request_approve",
    "request_break_glass",
    "request_cancel",
    "request_mark_deleted",
    "request_mark_failed",
    "request_mark_ready",
    "request_mark_rolled_back",
    "request_reject",
    "request_start_provisioning",
    "request_submit",
    "request_transition",
    "requests_expire_due",
    "team_create",
    "template_publish",
    "template_version_deprecate",
]
