"""Choice classes for the catalog: value, label and, where a page shows one, a badge colour
(registered with core.badges)."""

from django.db import models

from catalog import lifecycle
from core import badges as core_badges


class RiskTier(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class RequestState(models.TextChoices):
    """The states of catalog.lifecycle's machine (the values are its own), with their labels:
    code outside the machine names a state by this class."""

    SUBMITTED = lifecycle.SUBMITTED, "Submitted"
    DENIED = lifecycle.DENIED, "Denied"
    PENDING_APPROVAL = lifecycle.PENDING_APPROVAL, "Pending approval"
    APPROVED = lifecycle.APPROVED, "Approved"
    REJECTED = lifecycle.REJECTED, "Rejected"
    EXPIRED = lifecycle.EXPIRED, "Expired"
    CANCELLED = lifecycle.CANCELLED, "Cancelled"
    PROVISIONING = lifecycle.PROVISIONING, "Provisioning"
    READY = lifecycle.READY, "Ready"
    FAILED = lifecycle.FAILED, "Failed"
    ROLLED_BACK = lifecycle.ROLLED_BACK, "Rolled back"
    DELETED = lifecycle.DELETED, "Deleted"


class ChangeKind(models.TextChoices):
    """What the requester says a change is; approvers see it, and the error-budget-freeze
    policy lets fixes and break-glass changes through a freeze."""

    NORMAL = "normal", "A change"
    FIX = "fix", "A fix for the problem burning the error budget"
    BREAK_GLASS = "break_glass", "Break-glass: an emergency a platform admin approves at once"


class PolicyMode(models.TextChoices):
    ENFORCE = "enforce", "Enforce"
    WARN = "warn", "Warn"
    DRY_RUN = "dry_run", "Dry run"


class DecisionOutcome(models.TextChoices):
    ALLOW = "allow", "Allow"
    DENY = "deny", "Deny"
    ERROR = "error", "Error"


class VersionStatus(models.TextChoices):
    PUBLISHED = "published", "Published"
    DEPRECATED = "deprecated", "Deprecated"


class ReservationState(models.TextChoices):
    ACTIVE = "active", "Active"
    RELEASED = "released", "Released"


class ApprovalDecision(models.TextChoices):
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class NudgeKind(models.TextChoices):
    """What is sent about a request that waits for approval, in order: a reminder at half the
    time to its due time, then, once overdue, an escalation to the team's admins and later to
    the platform admins."""

    REMINDER = "reminder", "Reminder to the approvers"
    ESCALATED_TEAM = "escalated_team", "Escalated to the team's admins"
    ESCALATED_PLATFORM = "escalated_platform", "Escalated to the platform admins"


# Badge colours of the catalog's values (see core.badges).
core_badges.register(
    {
        RequestState.DENIED: "bad",
        RequestState.PENDING_APPROVAL: "warn",
        RequestState.APPROVED: "ok",
        RequestState.REJECTED: "bad",
        RequestState.EXPIRED: "",
        RequestState.PROVISIONING: "warn",
        RequestState.READY: "ok",
        RequestState.FAILED: "bad",
        RequestState.ROLLED_BACK: "bad",
        RiskTier.LOW: "ok",
        RiskTier.MEDIUM: "warn",
        RiskTier.HIGH: "bad",
        PolicyMode.ENFORCE: "bad",
        PolicyMode.WARN: "warn",
        DecisionOutcome.ALLOW: "ok",
        DecisionOutcome.DENY: "bad",
        DecisionOutcome.ERROR: "bad",
        VersionStatus.PUBLISHED: "ok",
        VersionStatus.DEPRECATED: "warn",
        ChangeKind.FIX: "warn",
        ChangeKind.BREAK_GLASS: "bad",
    }
)
