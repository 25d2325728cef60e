from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from core.serializers import StrictInput
from slo.models import SLO, AlertEvent, AlertPolicy, DataSource, Indicator, Snapshot
from teams.models import Team


class SnapshotSerializer(serializers.ModelSerializer):
    class Meta:
        model = Snapshot
        fields = [
            "at",
            "data_status",
            "sli",
            "error_budget_remaining",
            "burn_rates",
            "alerts",
            "time_to_exhaustion",
            "detail",
        ]
        read_only_fields = fields


class AlertEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AlertEvent
        fields = ["at", "severity", "kind", "windows", "burn_rates", "reason"]
        read_only_fields = fields


class SLOStatusSerializer(serializers.Serializer):
    data_status = serializers.CharField()
    since = serializers.DateTimeField(source="data_status_since", allow_null=True)
    detail = serializers.CharField(source="data_status_detail")
    evaluated_at = serializers.DateTimeField(allow_null=True)


class SLOSerializer(StrictInput, serializers.ModelSerializer):
    """An SLO; writes go through slo.services.slo_save (validated by SLO.clean, audited)."""

    service = serializers.CharField(
        source="service.name", help_text="service name; created for the team when new"
    )
    team = serializers.SlugRelatedField(slug_field="slug", queryset=Team.objects.all())
    data_source = serializers.SlugRelatedField(
        slug_field="name",
        queryset=DataSource.objects.all(),
        allow_null=True,
        required=False,
        help_text="empty: the Prometheus at PROMETHEUS_URL",
    )
    indicator = serializers.SlugRelatedField(
        slug_field="name", queryset=Indicator.objects.all(), allow_null=True, required=False
    )
    alert_policies = serializers.SlugRelatedField(
        slug_field="name", queryset=AlertPolicy.objects.all(), many=True, required=False
    )
    window = serializers.CharField(source="window_label", read_only=True)
    status = SLOStatusSerializer(source="*", read_only=True)
    parent = serializers.SlugRelatedField(
        slug_field="name",
        read_only=True,
        allow_null=True,
        help_text="Set on one group of a grouped SLO: its definition (groups are read-only)",
    )
    group_by = serializers.ListField(
        child=serializers.RegexField(r"^[a-zA-Z_][a-zA-Z0-9_]*$"),
        required=False,
        help_text="Labels the SLI is grouped by (from the queries' by (...) when empty)",
    )

    class Meta:
        model = SLO
        fields = [
            "uuid",
            "name",
            "display_name",
            "description",
            "service",
            "team",
            "objective",
            "window",
            "window_kind",
            "window_duration",
            "calendar_start",
            "calendar_tz",
            "budgeting_method",
            "timeslice_target",
            "timeslice_window",
            "indicator",
            "indicator_type",
            "evaluation",
            "numerator_kind",
            "numerator_query",
            "total_query",
            "ratio_query",
            "threshold_query",
            "group_by",
            "parent",
            "group_labels",
            "threshold_op",
            "threshold_value",
            "data_source",
            "labels",
            "alert_policies",
            "page_alerts",
            "ticket_alerts",
            "alert_labels",
            "alert_annotations",
            "severity_annotations",
            "runbook_url",
            "dashboard_url",
            "origin",
            "kept_fields",
            "status",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "uuid",
            "origin",
            "evaluation",
            "group_labels",
            "kept_fields",
            "created_at",
            "updated_at",
        ]

    def save_with(self, save, instance: SLO | None, validated: dict) -> SLO:
        """Apply validated data to a (new) SLO and hand it to the service; model errors → 400."""
        validated = dict(validated)
        service = validated.pop("service", None)
        policies = validated.pop("alert_policies", None)
        slo = instance or SLO()
        for field, value in validated.items():
            setattr(slo, field, value)
        try:
            return save(
                slo=slo, service_name=service["name"] if service else None, policies=policies
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
