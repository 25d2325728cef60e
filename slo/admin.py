"""The admin edits SLO definitions through the same audited services as the API and slo_import;
evaluation records (snapshots, alert events, outbox) are read only."""

from django.contrib import admin
from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from core.admin import ReadOnlyAdmin
from slo.models import (
    SLO,
    AlertCondition,
    AlertDelivery,
    AlertEvent,
    AlertNotificationTarget,
    AlertPolicy,
    BudgetAdjustment,
    DataSource,
    FreezeOverride,
    Indicator,
    PlatformAlert,
    Service,
    Snapshot,
)
from slo.selectors import slo_can_edit
from slo.services import save_audited, slo_delete, slo_save


class AuditedAdmin(admin.ModelAdmin):
    """Saves go through save_audited (validated, audited with the changed fields)."""

    search_fields = ["name", "display_name"]

    def save_model(self, request, obj, form, change):
        save_audited(actor=request.user, obj=obj)

    def delete_model(self, request, obj):
        with transaction.atomic():
            audit_record(
                action=f"slo.{obj._meta.model_name}.deleted",
                actor=request.user,
                obj=obj,
                team=getattr(obj, "team", None),
                payload={"name": str(obj)},
            )
            obj.delete()

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(DataSource)
class DataSourceAdmin(AuditedAdmin):
    list_display = ["name", "kind", "url"]


@admin.register(Service)
class ServiceAdmin(AuditedAdmin):
    list_display = ["name", "team", "display_name"]
    list_filter = ["team"]


@admin.register(AlertNotificationTarget)
class AlertNotificationTargetAdmin(AuditedAdmin):
    list_display = ["name", "target"]


@admin.register(AlertCondition)
class AlertConditionAdmin(AuditedAdmin):
    list_display = ["name", "severity", "op", "threshold", "lookback_window"]


@admin.register(AlertPolicy)
class AlertPolicyAdmin(AuditedAdmin):
    list_display = ["name", "alert_when_breaching", "alert_when_resolved", "alert_when_no_data"]
    filter_horizontal = ["conditions", "notification_targets"]


@admin.register(Indicator)
class IndicatorAdmin(AuditedAdmin):
    list_display = ["name", "indicator_type", "numerator_kind", "data_source"]


@admin.register(SLO)
class SLOAdmin(AuditedAdmin):
    list_display = ["name", "service", "team", "objective", "window_duration", "evaluation"]
    list_display += ["data_status"]
    list_filter = ["team", "budgeting_method", "evaluation", "data_status", "origin"]
    search_fields = ["name", "display_name", "service__name"]
    filter_horizontal = ["alert_policies"]
    readonly_fields = ["origin", "evaluation", "data_status", "data_status_since"]
    readonly_fields += ["data_status_detail", "evaluated_at"]
    fieldsets = [
        (None, {"fields": ["name", "display_name", "description", "service", "team", "labels"]}),
        ("Objective and window", {"fields": ["objective", "objective_name", "window_kind"]}),
        (None, {"fields": ["window_duration", "calendar_start", "calendar_tz"]}),
        (
            "Budgeting",
            {"fields": ["budgeting_method", "timeslice_target", "timeslice_window"]},
        ),
        (
            "Indicator",
            {
                "fields": [
                    "indicator",
                    "indicator_name",
                    "indicator_type",
                    "numerator_kind",
                    "numerator_query",
                    "total_query",
                    "ratio_query",
                    "threshold_query",
                    "group_by",
                    "threshold_op",
                    "threshold_value",
                    "data_source",
                ]
            },
        ),
        (
            "Alerting",
            {
                "fields": [
                    "alert_policies",
                    "min_events",
                    "page_alerts",
                    "ticket_alerts",
                    "alert_labels",
                    "alert_annotations",
                    "severity_annotations",
                    "runbook_url",
                    "dashboard_url",
                ]
            },
        ),
        ("Latest evaluation", {"fields": readonly_fields}),
    ]

    def get_queryset(self, request):
        # The groups of a grouped SLO follow their definition: the admin edits definitions.
        return super().get_queryset(request).filter(parent=None)

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or slo_can_edit(user=request.user, team_id=obj.team_id))

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or slo_can_edit(user=request.user, team_id=obj.team_id))

    def save_model(self, request, obj, form, change):
        if not change:
            obj.origin = "admin"
        policies = form.cleaned_data.get("alert_policies")
        slo_save(actor=request.user, slo=obj, alert_policies=list(policies or []))

    def delete_model(self, request, obj):
        slo_delete(actor=request.user, slo=obj)


@admin.register(Snapshot)
class SnapshotAdmin(ReadOnlyAdmin):
    list_display = ["slo", "at", "data_status", "sli", "error_budget_remaining"]
    list_filter = ["data_status"]
    date_hierarchy = "at"
    show_full_result_count = False


@admin.register(BudgetAdjustment)
class BudgetAdjustmentAdmin(ReadOnlyAdmin):
    """Planned maintenance is planned at /slos/maintenance/, the API or a file (each checks who
    may, and when); the admin shows it."""

    list_display = ["name", "service", "slo", "first_start", "duration_seconds", "rrule"]
    search_fields = ["name", "service__name", "slo__name"]


@admin.register(FreezeOverride)
class FreezeOverrideAdmin(ReadOnlyAdmin):
    """Freezes are lifted through the API (platform admins, audited); the admin shows them."""

    list_display = ["service", "until", "created_by", "created_at", "ended_at", "reason"]


@admin.register(AlertEvent)
class AlertEventAdmin(ReadOnlyAdmin):
    list_display = ["slo", "severity", "kind", "at", "reason"]
    list_filter = ["severity", "kind"]


@admin.register(PlatformAlert)
class PlatformAlertAdmin(ReadOnlyAdmin):
    list_display = ["alertname", "key", "severity", "firing", "since", "resolved_at"]
    list_filter = ["alertname", "severity", "firing"]
    search_fields = ["key", "summary"]


@admin.register(AlertDelivery)
class AlertDeliveryAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "kind",
        "state",
        "alert",
        "created_at",
        "attempts",
        "delivered_at",
        "last_error",
    ]
    list_filter = ["kind"]
    actions = ["retry_now"]

    @admin.action(description="Retry now (clear the backoff)")
    def retry_now(self, request, queryset):
        with transaction.atomic():
            ids = list(queryset.filter(delivered_at=None).values_list("pk", flat=True))
            AlertDelivery.objects.filter(pk__in=ids).update(next_attempt_at=timezone.now())
            audit_record(
                action="slo.alert.retry_requested", actor=request.user, payload={"deliveries": ids}
            )
