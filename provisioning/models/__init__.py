"""Provisioning's models, one module per concern, re-exported here."""

from provisioning.models.resources import (
    DriftFinding,
    OrphanFinding,
    Resource,
    ResourceSecret,
    ResourceTransition,
)
from provisioning.models.runbooks import (
    Runbook,
    RunbookApproval,
    RunbookRun,
    RunbookRunDecision,
    RunbookRunTransition,
)
from provisioning.models.runs import ProvisioningRun, RunStep, RunTransition

__all__ = [
    "DriftFinding",
    "OrphanFinding",
    "ProvisioningRun",
    "Resource",
    "ResourceSecret",
    "ResourceTransition",
    "RunStep",
    "RunTransition",
    "Runbook",
    "RunbookApproval",
    "RunbookRun",
    "RunbookRunDecision",
    "RunbookRunTransition",
]
