from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from core.serializers import StrictInput
from slo.models import (
    SLO,
    AlertEvent,
    AlertPolicy,
    BudgetAdjustment,
    DataSource,
    FreezeOverride,
    Indicator,
    Service,
    Snapshot,
)
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
            "held",
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
            "min_events",
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


# -- backtests -----------------------------------------------------------------------------------


class BacktestQuerySerializer(StrictInput, serializers.Serializer):
    days = serializers.FloatField(
        min_value=1, max_value=90, default=30, help_text="how many days back (default 30)"
    )
    at = serializers.DateTimeField(required=False, help_text="the end (default: now)")


class EpisodeSerializer(serializers.Serializer):
    severity = serializers.ChoiceField(choices=["page", "ticket"])
    start = serializers.CharField(help_text="RFC 3339: the first minute the condition held")
    end = serializers.CharField(help_text="RFC 3339: the last minute the condition held")
    peak_burn = serializers.FloatField()
    budget_spent = serializers.FloatField(
        allow_null=True, help_text="budget left the minute before it began minus at its end"
    )
    group = serializers.DictField(child=serializers.CharField(), required=False)
    reason = serializers.CharField(required=False, help_text="held alerts: why")
    really_fired = serializers.BooleanField(
        required=False, help_text="an existing SLO: whether a real alert overlapped it"
    )


class BudgetPointSerializer(serializers.Serializer):
    at = serializers.CharField()
    value = serializers.FloatField(allow_null=True)


class RealAlertSerializer(serializers.Serializer):
    severity = serializers.CharField()
    start = serializers.CharField()
    end = serializers.CharField()


class BacktestSerializer(serializers.Serializer):
    """What an SLO's alert rules would have done over past history (docs/slos.md)."""

    slo = serializers.CharField()
    evaluation = serializers.CharField()
    start = serializers.CharField(source="from_", help_text="RFC 3339")
    end = serializers.CharField(source="to", help_text="RFC 3339")
    step_seconds = serializers.IntegerField()
    budget_step_seconds = serializers.IntegerField()
    data_status = serializers.CharField()
    detail = serializers.CharField(allow_blank=True)
    alerts = EpisodeSerializer(many=True)
    held = EpisodeSerializer(many=True)
    real_alerts = RealAlertSerializer(many=True)
    budget_left = BudgetPointSerializer(many=True)
    maintenance = serializers.ListField(child=serializers.ListField(child=serializers.CharField()))


# -- gates, freeze overrides and maintenance -------------------------------------------------------


class GateSLOSerializer(serializers.Serializer):
    name = serializers.CharField()
    budget_left = serializers.FloatField(allow_null=True)
    data_status = serializers.CharField(allow_blank=True)
    firing = serializers.ListField(child=serializers.CharField())
    freezes = serializers.BooleanField(help_text="whether this SLO freezes the service")
    reason = serializers.CharField(allow_blank=True)


class GateOpenSerializer(serializers.Serializer):
    open = serializers.BooleanField()
    service = serializers.CharField()
    slos = GateSLOSerializer(many=True)


class GateClosedSerializer(GateOpenSerializer):
    reasons = serializers.ListField(
        child=serializers.CharField(), help_text="each names its SLO and its budget or page"
    )


class FreezeOverrideSerializer(serializers.ModelSerializer):
    service = serializers.CharField(source="service.name", read_only=True)
    created_by = serializers.CharField(source="created_by.username", read_only=True)

    class Meta:
        model = FreezeOverride
        fields = ["service", "until", "reason", "created_by", "created_at", "ended_at"]
        read_only_fields = fields


class FreezeOverrideInputSerializer(StrictInput, serializers.Serializer):
    hours = serializers.IntegerField(min_value=1, max_value=72)
    reason = serializers.CharField(min_length=10, max_length=2000)


class BudgetAdjustmentSerializer(StrictInput, serializers.ModelSerializer):
    """A planned maintenance window (OpenSLO v2alpha BudgetAdjustment): one-off, or recurring
    by an RRULE (UTC)."""

    service = serializers.SlugRelatedField(slug_field="name", queryset=Service.objects.all())
    slo = serializers.SlugRelatedField(
        slug_field="name",
        queryset=SLO.objects.filter(parent=None),
        allow_null=True,
        required=False,
        help_text="empty: every SLO of the service",
    )
    duration_seconds = serializers.IntegerField(min_value=60, max_value=7 * 86400)
    created_by = serializers.CharField(source="created_by.username", read_only=True, default=None)
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text="required once the window has begun (platform admins only)",
    )

    class Meta:
        model = BudgetAdjustment
        fields = [
            "uuid",
            "name",
            "description",
            "service",
            "slo",
            "first_start",
            "duration_seconds",
            "rrule",
            "reason",
            "created_by",
            "created_at",
        ]
        read_only_fields = ["uuid", "created_by", "created_at"]
