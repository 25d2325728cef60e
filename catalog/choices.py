"""Choice classes for the catalog: value, label and, where a page shows one, a badge colour
(registered with core.badges)."""

from django.db import models

from core import badges as core_badges


class RiskTier(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class RequestState(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"
    DENIED = "denied", "Denied"
    PENDING_APPROVAL = "pending_approval", "Pending approval"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    EXPIRED = "expired", "Expired"
    CANCELLED = "cancelled", "Cancelled"
    PROVISIONING = "provisioning", "Provisioning"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"
    ROLLED_BACK = "rolled_back", "Rolled back"
    DELETED = "deleted", "Deleted"


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
    }
)
