"""The provisioning engine's records: read only (changes go through its audited services)."""

from django.contrib import admin

from core.admin import ReadOnlyMixin
from provisioning.models import (
    DriftFinding,
    OrphanFinding,
    ProvisioningRun,
    Resource,
    Runbook,
    RunbookRun,
    RunStep,
)


class RunStepInline(ReadOnlyMixin, admin.TabularInline):
    model = RunStep
    fields = ["position", "step_id", "action", "operation", "state", "attempts", "duration_ms"]
    readonly_fields = fields
    extra = 0


@admin.register(ProvisioningRun)
class ProvisioningRunAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["uuid", "kind", "template", "state", "started_at", "finished_at"]
    list_filter = ["kind", "state"]
    search_fields = ["uuid", "template", "request__uuid"]
    inlines = [RunStepInline]


@admin.register(Resource)
class ResourceAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["name", "kind", "team", "requester", "state", "expires_at"]
    list_filter = ["kind", "state", "team"]
    search_fields = ["name", "external_id", "uuid"]


@admin.register(OrphanFinding)
class OrphanFindingAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["backend", "name", "kind", "team", "first_seen_at", "resolved_at"]
    list_filter = ["kind", "backend"]


@admin.register(DriftFinding)
class DriftFindingAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["resource", "team", "first_seen_at", "last_seen_at", "resolution"]
    list_filter = ["resolution"]


@admin.register(Runbook)
class RunbookAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["slug", "title", "version", "risk_tier", "enabled"]


@admin.register(RunbookRun)
class RunbookRunAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["uuid", "runbook", "actor", "team", "state", "created_at"]
    list_filter = ["state", "runbook"]
