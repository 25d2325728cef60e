"""The catalog's models, one module per concern, re-exported here."""

from catalog.models.notifications import Webhook
from catalog.models.policies import Policy, PolicyDecision, PolicyVersion
from catalog.models.quotas import DIMENSIONS, Budget, MonthlySpend, Quota, Reservation
from catalog.models.requests import Approval, ApprovalNudge, Request, RequestTransition
from catalog.models.templates import ImmutableVersionError, Template, TemplateVersion

__all__ = [
    "DIMENSIONS",
    "Approval",
    "ApprovalNudge",
    "Budget",
    "ImmutableVersionError",
    "MonthlySpend",
    "Policy",
    "PolicyDecision",
    "PolicyVersion",
    "Quota",
    "Request",
    "RequestTransition",
    "Reservation",
    "Template",
    "TemplateVersion",
    "Webhook",
]
