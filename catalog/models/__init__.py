"""The catalog's models, one module per concern, re-exported here."""

from catalog.models.notifications import Webhook
from catalog.models.policies import Policy, PolicyDecision, PolicyVersion
from catalog.models.provisioning import ProvisioningRun, RunStep, RunTransition
from catalog.models.quotas import DIMENSIONS, Budget, MonthlySpend, Quota, Reservation
from catalog.models.requests import Approval, Request, RequestTransition
from catalog.models.resources import OrphanFinding, Resource, ResourceSecret, ResourceTransition
from catalog.models.runbooks import Runbook, RunbookApproval, RunbookRun, RunbookRunTransition
from catalog.models.teams import Membership, Team, slug_validator
from catalog.models.templates import ImmutableVersionError, Template, TemplateVersion

__all__ = [
    "DIMENSIONS",
    "Approval",
    "Budget",
    "ImmutableVersionError",
    "Membership",
    "MonthlySpend",
    "OrphanFinding",
    "Policy",
    "PolicyDecision",
    "PolicyVersion",
    "ProvisioningRun",
    "Quota",
    "Request",
    "RequestTransition",
    "Reservation",
    "Resource",
    "ResourceSecret",
    "ResourceTransition",
    "RunStep",
    "RunTransition",
    "Runbook",
    "RunbookApproval",
    "RunbookRun",
    "RunbookRunTransition",
    "Team",
    "Template",
    "TemplateVersion",
    "Webhook",
    "slug_validator",
]
