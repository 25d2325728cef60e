"""Platform-metric records, written by audited services or beat jobs: read only here."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin
from metrics.models import (
    AuditGap,
    BillingImport,
    BillingRow,
    BudgetAlert,
    Incident,
    MetricSnapshot,
    OncallAction,
    ProbeResult,
    SatisfactionRating,
    UnexpectedActor,
)


@admin.register(BillingImport)
class BillingImportAdmin(ReadOnlyAdmin):
    list_display = ["file_name", "imported_at", "imported_by", "focus_version", "row_count"]
    list_display += ["replaced_rows"]


@admin.register(BillingRow)
class BillingRowAdmin(ReadOnlyAdmin):
    list_display = ["charge_period_start", "resource_id", "service_name", "effective_cost"]
    list_display += ["billing_currency", "owner", "cost_center"]
    search_fields = ["resource_id", "owner", "cost_center", "service_name"]
    date_hierarchy = "charge_period_start"
    show_full_result_count = False


@admin.register(MetricSnapshot)
class MetricSnapshotAdmin(ReadOnlyAdmin):
    list_display = ["metric", "period_kind", "period_start", "team", "dimension", "value"]
    list_display += ["data_status", "complete"]
    list_filter = ["metric", "period_kind", "data_status"]
    show_full_result_count = False


@admin.register(ProbeResult)
class ProbeResultAdmin(ReadOnlyAdmin):
    list_display = ["at", "ok", "status_code", "latency_ms", "error", "synthetic"]
    list_filter = ["ok", "synthetic"]
    show_full_result_count = False


@admin.register(Incident)
class IncidentAdmin(ReadOnlyAdmin):
    list_display = ["title", "severity", "team", "owner", "started_at", "opened_at", "resolved_at"]
    list_filter = ["severity"]


@admin.register(OncallAction)
class OncallActionAdmin(ReadOnlyAdmin):
    list_display = ["incident", "actor", "performed_at", "description"]


@admin.register(SatisfactionRating)
class SatisfactionRatingAdmin(ReadOnlyAdmin):
    list_display = ["request", "team", "user", "score", "created_at"]
    list_filter = ["score"]


@admin.register(BudgetAlert)
class BudgetAlertAdmin(ReadOnlyAdmin):
    list_display = ["team", "month", "burn_rate", "spend", "budgeted_so_far", "firing"]
    list_filter = ["firing"]


@admin.register(UnexpectedActor)
class UnexpectedActorAdmin(ReadOnlyAdmin):
    list_display = ["rule", "actor", "team", "occurred_at", "detail", "alerted_at"]
    list_filter = ["rule"]


@admin.register(AuditGap)
class AuditGapAdmin(ReadOnlyAdmin):
    list_display = ["kind", "record", "team", "occurred_at", "problem"]
    list_filter = ["kind"]
