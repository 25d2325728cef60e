"""Choice classes for provisioning: runs, steps, resources, orphans, drift and runbook runs."""

from django.db import models

from core import badges as core_badges


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


class DriftResolution(models.TextChoices):
    REAPPLIED = "reapplied", "Re-applied"
    ACCEPTED = "accepted", "Accepted"
    CLEARED = "cleared", "No longer found"
    GONE = "gone", "Resource deleted"


class RunbookRunState(models.TextChoices):
    DENIED = "denied", "Denied"
    PENDING_APPROVAL = "pending_approval", "Pending approval"
    REJECTED = "rejected", "Rejected"
    RUNNING = "running", "Running"
    VERIFYING = "verifying", "Verifying"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


core_badges.register(
    {
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
)
