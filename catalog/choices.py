"""Choice classes for the catalog: value, label and, where a page shows one, a badge colour."""

from django.db import models


class TeamRole(models.TextChoices):
    MEMBER = "member", "Member"
    APPROVER = "approver", "Approver"
    ADMIN = "admin", "Team admin"


class PlatformGroup:
    """Names of the Django groups that give platform-wide roles."""

    ADMIN = "platform-admin"
    ONCALL = "oncall"
    EXECUTIVE = "executive"

    ALL = (ADMIN, ONCALL, EXECUTIVE)


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


class RunKind(models.TextChoices):
    PROVISION = "provision", "Provision"
    TEARDOWN = "teardown", "Teardown"
    RUNBOOK = "runbook", "Runbook"


class RunState(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    COMPENSATING = "compensating", "Undoing"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    ROLLED_BACK = "rolled_back", "Rolled back"
    CANCELLED = "cancelled", "Cancelled"


class StepOperation(models.TextChoices):
    APPLY = "apply", "Apply"
    UNDO = "undo", "Undo"
    DELETE = "delete", "Delete"


class StepState(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    RETRYING = "retrying", "Retrying"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


class ResourceState(models.TextChoices):
    ACTIVE = "active", "Active"
    DELETING = "deleting", "Deleting"
    DELETED = "deleted", "Deleted"
    DELETE_FAILED = "delete_failed", "Delete failed"


class OrphanKind(models.TextChoices):
    OWNER_GONE = "owner_gone", "Owner gone"
    BACKEND_OBJECT = "backend_object", "Not in the inventory"


class RunbookRunState(models.TextChoices):
    DENIED = "denied", "Denied"
    PENDING_APPROVAL = "pending_approval", "Pending approval"
    REJECTED = "rejected", "Rejected"
    RUNNING = "running", "Running"
    VERIFYING = "verifying", "Verifying"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


# Badge colours (classes in ssops.css): ok, warn, bad; anything else shows plain.
BADGE = {
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
    RunState.RUNNING: "warn",
    RunState.COMPENSATING: "warn",
    RunState.SUCCEEDED: "ok",
    RunState.CANCELLED: "",
    StepState.RETRYING: "warn",
    StepState.SKIPPED: "",
    ResourceState.ACTIVE: "ok",
    ResourceState.DELETING: "warn",
    ResourceState.DELETE_FAILED: "bad",
    RunbookRunState.VERIFYING: "warn",
}
