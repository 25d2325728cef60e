from rest_framework import serializers
from rest_framework.utils import html

from catalog.models import Request
from core.models import JobRun
from core.serializers import StrictInput
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
from slo.models import SLO
from teams.models import Team


class TargetSerializer(serializers.Serializer):
    """A threshold (`op`, `threshold`) or a trend (`direction` against the mean of the
    `periods` periods before) that the figure of `dimension` ("" = overall) must meet."""

    kind = serializers.ChoiceField(choices=["threshold", "trend"])
    op = serializers.CharField(allow_null=True)
    threshold = serializers.FloatField(allow_null=True)
    direction = serializers.CharField(allow_null=True)
    periods = serializers.IntegerField(allow_null=True)
    text = serializers.CharField()
    dimension = serializers.CharField(allow_blank=True)


class MetricSerializer(serializers.Serializer):
    """What a metric means (shown next to every value of it)."""

    key = serializers.CharField()
    slug = serializers.CharField()
    title = serializers.CharField()
    question = serializers.CharField()
    definition = serializers.CharField()
    formula = serializers.CharField()
    source = serializers.CharField()
    unit = serializers.CharField()
    value_label = serializers.CharField()
    scope = serializers.CharField()
    dimension = serializers.CharField(allow_blank=True)
    target = TargetSerializer(allow_null=True)
    version = serializers.IntegerField()
    changed = serializers.CharField(allow_blank=True)
    definition_since = serializers.DateTimeField(allow_null=True)
    history_recomputed_at = serializers.DateTimeField(allow_null=True)


class FigureSerializer(serializers.ModelSerializer):
    """One stored value of a metric: one period, one team (null: all teams), one dimension."""

    team = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    period = serializers.SerializerMethodField()

    class Meta:
        model = MetricSnapshot
        fields = [
            "metric",
            "period_kind",
            "period",
            "period_start",
            "period_end",
            "team",
            "dimension",
            "value",
            "extras",
            "data_status",
            "detail",
            "complete",
            "computed_at",
        ]
        read_only_fields = fields

    def get_period(self, row: MetricSnapshot) -> str:
        from metrics.periods import Period

        return Period(row.period_kind, row.period_start).label


class MetricWithFiguresSerializer(MetricSerializer):
    period = serializers.CharField()
    figures = FigureSerializer(many=True)
    rows_url = serializers.CharField()


class BillingImportSerializer(serializers.ModelSerializer):
    imported_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = BillingImport
        fields = [
            "uuid",
            "file_name",
            "sha256",
            "focus_version",
            "row_count",
            "replaced_rows",
            "periods",
            "effective_cost",
            "imported_by",
            "imported_at",
        ]
        read_only_fields = fields


class BillingUploadSerializer(StrictInput, serializers.Serializer):
    file = serializers.FileField(help_text="a FOCUS 1.2 CSV (1.3 columns accepted)")


class BillingRowSerializer(serializers.ModelSerializer):
    billing_import = serializers.SlugRelatedField(slug_field="uuid", read_only=True)

    class Meta:
        model = BillingRow
        exclude = ["id"]
        read_only_fields = [f.name for f in BillingRow._meta.fields if f.name != "id"]


class BudgetAlertSerializer(serializers.ModelSerializer):
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = BudgetAlert
        fields = [
            "team",
            "month",
            "monthly_limit",
            "currency",
            "spend",
            "budgeted_so_far",
            "burn_rate",
            "covered_until",
            "firing",
            "since",
            "resolved_at",
            "evaluated_at",
        ]
        read_only_fields = fields


class AuditGapSerializer(serializers.ModelSerializer):
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)

    class Meta:
        model = AuditGap
        fields = [
            "kind",
            "record",
            "team",
            "object_id",
            "occurred_at",
            "expected",
            "problem",
            "found_at",
        ]
        read_only_fields = fields


class UnexpectedActorSerializer(serializers.ModelSerializer):
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)

    class Meta:
        model = UnexpectedActor
        fields = [
            "uuid",
            "rule",
            "actor",
            "team",
            "action",
            "object_type",
            "object_id",
            "event_seq",
            "occurred_at",
            "detail",
            "found_at",
            "alerted_at",
        ]
        read_only_fields = fields


class JobRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = JobRun
        fields = [
            "name",
            "started_at",
            "finished_at",
            "duration_ms",
            "outcome",
            "error",
            "result",
            "worker",
        ]
        read_only_fields = fields


class JobOverviewSerializer(serializers.Serializer):
    name = serializers.CharField()
    scheduled = serializers.BooleanField()
    running = serializers.BooleanField()
    last_started = serializers.DateTimeField(allow_null=True)
    last_duration_ms = serializers.FloatField(allow_null=True, required=False)
    last_outcome = serializers.CharField(allow_null=True, required=False)
    last_error = serializers.CharField(allow_null=True, required=False)
    last_ok = serializers.DateTimeField(allow_null=True, required=False)
    failures_24h = serializers.IntegerField()


class ProbeResultSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProbeResult
        fields = ["at", "ok", "status_code", "latency_ms", "error", "synthetic"]
        read_only_fields = fields


class OncallActionSerializer(StrictInput, serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = OncallAction
        fields = ["uuid", "actor", "description", "performed_at", "logged_at", "by_oncall"]
        read_only_fields = ["uuid", "actor", "logged_at", "by_oncall"]
        extra_kwargs = {"performed_at": {"required": False}}


class NamedBy(serializers.SlugRelatedField):
    """An object named by its slug (or name, or UUID); an empty string is refused as the
    schema says (DRF's relational fields would take it for null: leave the field out, or send
    null, for none)."""

    def get_value(self, dictionary):
        if html.is_html_input(dictionary) and dictionary.get(self.field_name) == "":
            return ""  # a form's empty field, kept as what it is
        return super().get_value(dictionary)

    def run_validation(self, data=serializers.empty):
        if data == "":
            raise serializers.ValidationError(
                "An empty name names nothing: leave the field out (or send null) for none."
            )
        return super().run_validation(data)


class IncidentSerializer(StrictInput, serializers.ModelSerializer):
    """An incident: `started_at` is when its impact began (default: when it is opened); MTTA
    runs from `opened_at` to `acknowledged_at`, MTTR from `started_at` to `resolved_at`."""

    team = NamedBy(slug_field="slug", queryset=Team.objects.all(), allow_null=True, required=False)
    slos = NamedBy(slug_field="name", queryset=SLO.objects.all(), many=True, required=False)
    requests = NamedBy(slug_field="uuid", queryset=Request.objects.all(), many=True, required=False)
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    opened_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    acknowledged_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    resolved_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    started_at = serializers.DateTimeField(required=False)

    class Meta:
        model = Incident
        fields = [
            "uuid",
            "title",
            "severity",
            "team",
            "owner",
            "slos",
            "requests",
            "started_at",
            "opened_by",
            "opened_at",
            "acknowledged_at",
            "acknowledged_by",
            "resolved_at",
            "resolved_by",
        ]
        read_only_fields = [
            "uuid",
            "owner",
            "opened_by",
            "opened_at",
            "acknowledged_at",
            "acknowledged_by",
            "resolved_at",
            "resolved_by",
        ]
        extra_kwargs = {"severity": {"required": False}}


class RatingSerializer(serializers.ModelSerializer):
    request = serializers.SlugRelatedField(slug_field="uuid", read_only=True)
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    user = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = SatisfactionRating
        fields = ["request", "team", "user", "score", "comment", "created_at", "updated_at"]
        read_only_fields = fields


class RatingInputSerializer(StrictInput, serializers.Serializer):
    request = serializers.UUIDField(help_text="the request's UUID")
    score = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000)
