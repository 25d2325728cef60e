"""Catalog pages (one module per concern, re-exported for catalog/urls.py). Forms work without
JavaScript; htmx only refreshes search results and live timelines."""

from catalog.views.requests import (
    approval_inbox,
    request_approve,
    request_break_glass,
    request_cancel,
    request_create,
    request_detail,
    request_freeze,
    request_list,
    request_reject,
    request_timeline,
    team_list,
    team_usage,
    template_detail,
    template_list,
)
from catalog.views.rollbacks import policy_restore, template_version_deprecate

__all__ = [
    "request_freeze",
    "approval_inbox",
    "policy_restore",
    "request_approve",
    "request_break_glass",
    "request_cancel",
    "request_create",
    "request_detail",
    "request_list",
    "request_reject",
    "request_timeline",
    "team_list",
    "team_usage",
    "template_detail",
    "template_list",
    "template_version_deprecate",
]
