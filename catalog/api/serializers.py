from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.choices import ChangeKind, PolicyMode, RequestState, RiskTier
from catalog.models import Budget, Policy, PolicyDecision, Quota, Template, TemplateVersion
from catalog.services.approvals import BREAK_GLASS_DEFAULT_HOURS, BREAK_GLASS_MAX_HOURS
from core.serializers import StrictInput
from teams.models import Membership, Team


class MembershipSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = Membership
        fields = ["username", "role"]


class TeamSerializer(serializers.ModelSerializer):
    memberships = MembershipSerializer(many=True, read_only=True)

    class Meta:
        model = Team
        fields = ["uuid", "slug", "name", "cost_center", "memberships"]
        read_only_fields = fields


class MeTeamSerializer(serializers.Serializer):
    slug = serializers.CharField()
    role = serializers.CharField()


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    platform_admin = serializers.BooleanField()
    teams = MeTeamSerializer(many=True)


class TemplateVersionSerializer(serializers.ModelSerializer):
    parameters = serializers.JSONField(source="parameters_schema")

    class Meta:
        model = TemplateVersion
        fields = [
            "version",
            "status",
            "title",
            "description",
            "owner",
            "risk_tier",
            "default_ttl_hours",
            "max_ttl_hours",
            "approval_timeout_hours",
            "required_approvals",
            "cost_monthly",
            "currency",
            "resources",
            "parameters",
            "steps",
            "outputs",
            "digest",
            "published_at",
            "deprecated_at",
            "deprecation_reason",
        ]
        read_only_fields = fields


class VersionSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = TemplateVersion
        fields = ["version", "status", "published_at", "deprecated_at", "deprecation_reason"]
        read_only_fields = fields


class TemplateSerializer(serializers.ModelSerializer):
    tags = serializers.ListField(source="tag_list", child=serializers.CharField(), read_only=True)
    # None when every version is deprecated (the template stays readable, not requestable).
    latest_version = serializers.CharField(
        source="latest_version.version", default=None, allow_null=True
    )

    class Meta:
        model = Template
        fields = ["slug", "title", "description", "tags", "owner", "risk_tier", "latest_version"]
        read_only_fields = fields


class TemplateDetailSerializer(TemplateSerializer):
    latest = TemplateVersionSerializer(source="latest_version", read_only=True, allow_null=True)
    versions = VersionSummarySerializer(many=True, read_only=True)

    class Meta(TemplateSerializer.Meta):
        fields = [*TemplateSerializer.Meta.fields, "latest", "versions"]
        read_only_fields = fields


class DeprecateSerializer(StrictInput, serializers.Serializer):
    version = serializers.CharField()
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class RequestCreateSerializer(StrictInput, serializers.Serializer):
    """A misspelt field is refused rather than ignored: "ttl_hour" or "paramters" would
    otherwise file a request with the defaults the caller meant to change."""

    template = serializers.SlugField(help_text="Template slug, e.g. postgres-database.")
    version = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="A published version; default: the latest.",
    )
    team = serializers.SlugField(help_text="Slug of a team you belong to.")
    parameters = serializers.DictField(required=False, default=dict)
    ttl_hours = serializers.IntegerField(required=False, allow_null=True, default=None)
    justification = serializers.CharField(required=False, allow_blank=True, default="")
    change_kind = serializers.ChoiceField(
        choices=ChangeKind.choices,
        default=ChangeKind.NORMAL,
        help_text="fix: it fixes what burns the error budget; break_glass: an emergency, "
        "approved by a platform admin's break-glass only (both go through a change freeze)",
    )


class BreakGlassDetailSerializer(serializers.Serializer):
    by = serializers.CharField(source="break_glass_by.username")
    reason = serializers.CharField(source="break_glass_reason")
    until = serializers.DateTimeField(source="break_glass_until")


class RequestSerializer(serializers.Serializer):
    """A request as the API shows it."""

    uuid = serializers.UUIDField(read_only=True)
    template = serializers.CharField(source="template_version.template.slug", read_only=True)
    version = serializers.CharField(source="template_version.version", read_only=True)
    team = serializers.CharField(source="team.slug", read_only=True)
    requester = serializers.CharField(source="requester.username", read_only=True)
    state = serializers.ChoiceField(choices=RequestState.choices, read_only=True)
    risk_tier = serializers.ChoiceField(choices=RiskTier.choices, read_only=True)
    required_approvals = serializers.IntegerField(read_only=True)
    approval_due_at = serializers.DateTimeField(read_only=True, allow_null=True)
    approval_expires_at = serializers.DateTimeField(read_only=True, allow_null=True)
    ttl_hours = serializers.IntegerField(read_only=True)
    expires_at = serializers.DateTimeField(read_only=True, allow_null=True)
    parameters = serializers.JSONField(read_only=True)
    justification = serializers.CharField(read_only=True)
    change_kind = serializers.ChoiceField(choices=ChangeKind.choices, read_only=True)
    deny_reasons = serializers.ListField(child=serializers.CharField(), read_only=True)
    warnings = serializers.ListField(child=serializers.CharField(), read_only=True)
    outputs = serializers.JSONField(read_only=True)
    break_glass = serializers.BooleanField(read_only=True)
    break_glass_detail = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    @extend_schema_field(BreakGlassDetailSerializer(allow_null=True))
    def get_break_glass_detail(self, obj):
        return BreakGlassDetailSerializer(obj).data if obj.break_glass else None


class TransitionSerializer(serializers.Serializer):
    from_state = serializers.CharField()
    to_state = serializers.CharField()
    # None for what SSOps did by itself (provisioning, expiry, a timeout), with no one acting.
    actor = serializers.CharField(source="actor.username", default=None, allow_null=True)
    reason = serializers.CharField()
    audit_seq = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()


class ApprovalSerializer(serializers.Serializer):
    approver = serializers.CharField(source="approver.username")
    decision = serializers.CharField()
    comment = serializers.CharField()
    as_platform_admin = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class ReservationSerializer(serializers.Serializer):
    kind = serializers.CharField()
    count = serializers.IntegerField()
    cpu_millicores = serializers.IntegerField()
    memory_mib = serializers.IntegerField()
    storage_gib = serializers.IntegerField()
    cost = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()
    period = serializers.DateField()
    state = serializers.CharField()


class PolicyDecisionSerializer(serializers.ModelSerializer):
    policy = serializers.CharField(source="policy_version.policy.slug")
    policy_version = serializers.IntegerField(source="policy_version.number")
    # None for the decisions of a runbook run (they guard no request).
    request = serializers.UUIDField(source="request.uuid", allow_null=True, read_only=True)
    # Blank when the policy named no tier; said explicitly so the schema allows "".
    risk_tier = serializers.ChoiceField(choices=RiskTier.choices, allow_blank=True, read_only=True)

    class Meta:
        model = PolicyDecision
        fields = [
            "id",
            "request",
            "policy",
            "policy_version",
            "mode",
            "outcome",
            "enforced",
            "deny",
            "warn",
            "risk_tier",
            "error",
            "input_digest",
            "latency_ms",
            "created_at",
        ]
        read_only_fields = fields


class RequestDetailSerializer(RequestSerializer):
    transitions = TransitionSerializer(many=True, read_only=True)
    approvals = ApprovalSerializer(many=True, read_only=True)
    decisions = PolicyDecisionSerializer(many=True, read_only=True)
    # None when nothing was reserved (a denied request).
    reservation = ReservationSerializer(read_only=True, default=None, allow_null=True)


class DecisionSerializer(StrictInput, serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class BreakGlassSerializer(StrictInput, serializers.Serializer):
    reason = serializers.CharField()
    hours = serializers.IntegerField(
        min_value=1, max_value=BREAK_GLASS_MAX_HOURS, default=BREAK_GLASS_DEFAULT_HOURS
    )


class PolicySerializer(StrictInput, serializers.ModelSerializer):
    mode = serializers.ChoiceField(choices=PolicyMode.choices, default=PolicyMode.ENFORCE)
    version = serializers.IntegerField(source="current_version.number", read_only=True)
    source = serializers.CharField(source="current_version.source", trim_whitespace=False)
    examples = serializers.ListField(
        source="current_version.examples",
        child=serializers.DictField(),
        required=False,
        default=list,
    )

    class Meta:
        model = Policy
        fields = [
            "slug",
            "title",
            "description",
            "enabled",
            "mode",
            "version",
            "source",
            "examples",
            "updated_at",
        ]
        read_only_fields = ["version", "updated_at"]
        extra_kwargs = {"slug": {"validators": []}}

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["mode"] = instance.mode
        return data


class PolicyTestSerializer(StrictInput, serializers.Serializer):
    input = serializers.DictField(help_text="A policy input document (see the README).")


class VerdictSerializer(serializers.Serializer):
    deny = serializers.ListField(child=serializers.CharField())
    warn = serializers.ListField(child=serializers.CharField())
    risk_tier = serializers.CharField()
    error = serializers.CharField()
    latency_ms = serializers.FloatField()


class QuotaSerializer(StrictInput, serializers.ModelSerializer):
    team = serializers.CharField(source="team.slug", read_only=True)
    kind = serializers.CharField(read_only=True)

    class Meta:
        model = Quota
        fields = [
            "team",
            "kind",
            "max_count",
            "max_cpu_millicores",
            "max_memory_mib",
            "max_storage_gib",
            "updated_at",
        ]
        read_only_fields = ["team", "kind", "updated_at"]


class BudgetSerializer(StrictInput, serializers.ModelSerializer):
    team = serializers.CharField(source="team.slug", read_only=True)

    class Meta:
        model = Budget
        fields = ["team", "monthly_limit", "currency", "updated_at"]
        read_only_fields = ["team", "updated_at"]


class UsageDimensionSerializer(serializers.Serializer):
    name = serializers.CharField()
    used = serializers.IntegerField()
    limit = serializers.IntegerField(allow_null=True)
    percent = serializers.IntegerField(allow_null=True)


class UsageKindSerializer(serializers.Serializer):
    kind = serializers.CharField()
    dimensions = UsageDimensionSerializer(many=True)


class UsageBudgetSerializer(serializers.Serializer):
    limit = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    currency = serializers.CharField()
    spent = serializers.DecimalField(max_digits=12, decimal_places=2)
    percent = serializers.IntegerField(allow_null=True)


class UsageSerializer(serializers.Serializer):
    team = serializers.CharField(source="team.slug")
    period = serializers.DateField()
    kinds = UsageKindSerializer(many=True)
    budget = UsageBudgetSerializer()
    active_reservations = serializers.IntegerField()
