"""The API of the provisioning engine: runs and their steps, resources (extend, delete, the
one-time secret), runbooks and their runs (start, approve, reject), orphan findings. Lists hold
only what the caller may see; every write goes through a service that checks the object."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from catalog.api.views import ServiceErrorsMixin
from catalog.choices import RiskTier
from core.serializers import StrictInput
from provisioning import selectors, services
from provisioning.choices import (
    DriftResolution,
    OrphanKind,
    ResourceState,
    RunbookRunState,
    RunKind,
    RunState,
    StepOperation,
    StepState,
)
from provisioning.filtersets import ResourceFilterSet, RunbookRunFilterSet, RunFilterSet
from provisioning.models import DriftFinding, OrphanFinding, RunStep
from provisioning.services import drift as drift_services
from provisioning.services import resources as resource_services
from provisioning.services import runbooks as runbook_services
from teams import permissions

# --- serializers -------------------------------------------------------------------------------


class StepSerializer(serializers.Serializer):
    uuid = serializers.UUIDField(help_text="The step key (idempotency key of its backend call).")
    run = serializers.UUIDField(source="run.uuid")
    position = serializers.IntegerField()
    step_id = serializers.CharField()
    name = serializers.CharField()
    action = serializers.CharField()
    operation = serializers.ChoiceField(choices=StepOperation.choices)
    state = serializers.ChoiceField(choices=StepState.choices)
    attempts = serializers.IntegerField()
    error = serializers.CharField()
    input = serializers.JSONField()
    output = serializers.JSONField()
    log = serializers.JSONField(help_text='[{"at", "level", "message"}], secrets masked')
    artifact_name = serializers.CharField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    duration_ms = serializers.FloatField(allow_null=True)


class StepDetailSerializer(StepSerializer):
    artifact = serializers.CharField(help_text="e.g. the rendered Kubernetes manifests")


class RunSerializer(serializers.Serializer):
    uuid = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=RunKind.choices)
    request = serializers.UUIDField(source="request.uuid", default=None, allow_null=True)
    runbook_run = serializers.SerializerMethodField()
    template = serializers.CharField(help_text="Template (or runbook) slug.")
    state = serializers.ChoiceField(choices=RunState.choices)
    error = serializers.CharField()
    leftovers = serializers.JSONField(help_text="What could not be undone or deleted.")
    outputs = serializers.JSONField()
    cancel_requested_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    duration_seconds = serializers.FloatField(allow_null=True)

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_runbook_run(self, obj) -> str | None:
        runbook_run = getattr(obj, "runbook_run", None) if obj.kind == RunKind.RUNBOOK else None
        return str(runbook_run.uuid) if runbook_run else None


class RunDetailSerializer(RunSerializer):
    steps = StepSerializer(many=True, source="steps.all")


class ResourceSerializer(serializers.Serializer):
    uuid = serializers.UUIDField()
    kind = serializers.CharField()
    name = serializers.CharField()
    external_id = serializers.CharField(help_text="The ResourceId billing exports use.")
    request = serializers.UUIDField(source="request.uuid")
    team = serializers.CharField(source="team.slug")
    requester = serializers.CharField(source="requester.username")
    cost_center = serializers.CharField()
    template = serializers.CharField(source="template_version.template.slug")
    template_version = serializers.CharField(source="template_version.version")
    state = serializers.ChoiceField(choices=ResourceState.choices)
    details = serializers.JSONField()
    expires_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    deleted_at = serializers.DateTimeField(allow_null=True)


class ExtendSerializer(StrictInput, serializers.Serializer):
    hours = serializers.IntegerField(min_value=1, max_value=24 * 7 * 104)


class SecretSerializer(serializers.Serializer):
    name = serializers.CharField()
    password = serializers.CharField(help_text="Shown once; SSOps forgets it as it answers.")


class RunbookSerializer(serializers.Serializer):
    slug = serializers.CharField()
    version = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    owner = serializers.CharField()
    tags = serializers.ListField(child=serializers.CharField())
    risk_tier = serializers.ChoiceField(choices=RiskTier.choices)
    parameters = serializers.JSONField(source="parameters_schema")
    steps = serializers.JSONField()
    verify = serializers.JSONField()


class RunbookRunCreateSerializer(StrictInput, serializers.Serializer):
    team = serializers.SlugField(required=False, allow_null=True, default=None)
    parameters = serializers.DictField(required=False, default=dict)
    justification = serializers.CharField(required=False, allow_blank=True, default="")


class RunbookRunSerializer(serializers.Serializer):
    uuid = serializers.UUIDField()
    runbook = serializers.CharField(source="runbook.slug")
    runbook_version = serializers.CharField()
    team = serializers.CharField(source="team.slug", default=None, allow_null=True)
    actor = serializers.CharField(source="actor.username")
    by_oncall = serializers.BooleanField()
    parameters = serializers.JSONField()
    justification = serializers.CharField()
    risk_tier = serializers.ChoiceField(choices=RiskTier.choices)
    required_approvals = serializers.IntegerField()
    state = serializers.ChoiceField(choices=RunbookRunState.choices)
    deny_reasons = serializers.ListField(child=serializers.CharField())
    warnings = serializers.ListField(child=serializers.CharField())
    run = serializers.UUIDField(source="run.uuid", default=None, allow_null=True)
    verification = serializers.JSONField()
    error = serializers.CharField()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


class CommentSerializer(StrictInput, serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class OrphanFindingSerializer(serializers.Serializer):
    uuid = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=OrphanKind.choices)
    backend = serializers.CharField()
    name = serializers.CharField()
    team = serializers.CharField(source="team.slug", default=None, allow_null=True)
    resource = serializers.UUIDField(source="resource.uuid", default=None, allow_null=True)
    reason = serializers.CharField()
    details = serializers.JSONField()
    first_seen_at = serializers.DateTimeField()
    last_seen_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True)


class DifferenceSerializer(serializers.Serializer):
    what = serializers.CharField(help_text="The fact, e.g. role.connection_limit.")
    expected = serializers.JSONField(help_text="What was provisioned (or accepted since).")
    found = serializers.JSONField(help_text="What the backend holds (null: not there).")


class DriftFindingSerializer(serializers.Serializer):
    uuid = serializers.UUIDField()
    resource = serializers.UUIDField(source="resource.uuid")
    kind = serializers.CharField(source="resource.kind")
    name = serializers.CharField(source="resource.name")
    team = serializers.CharField(source="team.slug", default=None, allow_null=True)
    differences = DifferenceSerializer(many=True)
    first_seen_at = serializers.DateTimeField()
    last_seen_at = serializers.DateTimeField()
    reapply_requested_at = serializers.DateTimeField(allow_null=True)
    last_error = serializers.CharField()
    resolved_at = serializers.DateTimeField(allow_null=True)
    resolution = serializers.ChoiceField(choices=DriftResolution.choices, allow_blank=True)
    resolved_by = serializers.CharField(
        source="resolved_by.username", default=None, allow_null=True
    )


# --- filters -----------------------------------------------------------------------------------


class StepFilterSet(django_filters.FilterSet):
    run = django_filters.UUIDFilter(field_name="run__uuid", label="Run")
    state = django_filters.MultipleChoiceFilter(choices=StepState.choices)

    class Meta:
        model = RunStep
        fields: list[str] = []


class OrphanFilterSet(django_filters.FilterSet):
    team = django_filters.CharFilter(field_name="team__slug", label="Team")
    kind = django_filters.ChoiceFilter(choices=OrphanKind.choices)
    backend = django_filters.CharFilter()
    resolved = django_filters.BooleanFilter(
        field_name="resolved_at", lookup_expr="isnull", exclude=True, label="Resolved"
    )

    class Meta:
        model = OrphanFinding
        fields: list[str] = []


class DriftFilterSet(django_filters.FilterSet):
    team = django_filters.CharFilter(field_name="team__slug", label="Team")
    kind = django_filters.CharFilter(field_name="resource__kind", label="Kind")
    resource = django_filters.UUIDFilter(field_name="resource__uuid", label="Resource")
    resolved = django_filters.BooleanFilter(
        field_name="resolved_at", lookup_expr="isnull", exclude=True, label="Resolved"
    )

    class Meta:
        model = DriftFinding
        fields: list[str] = []


# --- views -------------------------------------------------------------------------------------


class RunViewSet(ServiceErrorsMixin, viewsets.ReadOnlyModelViewSet):
    """Provisioning, teardown and runbook runs the caller may see, newest first; a run's
    detail has its steps. A running provisioning run can be cancelled (it compensates)."""

    lookup_field = "uuid"
    filterset_class = RunFilterSet

    def get_queryset(self):
        return selectors.run_list_visible(user=self.request.user).prefetch_related("steps")

    def get_serializer_class(self):
        return RunDetailSerializer if self.action != "list" else RunSerializer

    @extend_schema(request=None, responses={200: RunDetailSerializer, 409: OpenApiResponse()})
    @action(detail=True, methods=["post"])
    def cancel(self, request, uuid=None):
        run = services.run_cancel(run=self.get_object(), actor=request.user)
        fresh = self.get_queryset().get(pk=run.pk)
        return Response(RunDetailSerializer(fresh).data)


class StepViewSet(viewsets.ReadOnlyModelViewSet):
    """Steps of the runs the caller may see (filter by `run`), with their logs."""

    lookup_field = "uuid"
    filterset_class = StepFilterSet

    def get_queryset(self):
        return selectors.step_list_visible(user=self.request.user).order_by("run_id", "position")

    def get_serializer_class(self):
        return StepDetailSerializer if self.action != "list" else StepSerializer


class ResourceViewSet(ServiceErrorsMixin, viewsets.ReadOnlyModelViewSet):
    """Resources of the caller's teams (and their own). Owners extend them within the
    template's maximum or delete them (everything their request made); the requester reads a
    new resource's secret once."""

    lookup_field = "uuid"
    serializer_class = ResourceSerializer
    filterset_class = ResourceFilterSet

    def get_queryset(self):
        return selectors.resource_list_visible(user=self.request.user)

    @extend_schema(request=ExtendSerializer, responses={200: ResourceSerializer, 409: None})
    @action(detail=True, methods=["post"])
    def extend(self, request, uuid=None):
        incoming = ExtendSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        resource = self.get_object()
        resource_services.resource_extend(
            actor=request.user, resource=resource, hours=incoming.validated_data["hours"]
        )
        return Response(ResourceSerializer(self.get_queryset().get(pk=resource.pk)).data)

    @extend_schema(request=None, responses={202: RunDetailSerializer, 409: None})
    @action(detail=True, methods=["post"], url_path="delete")
    def delete_all(self, request, uuid=None):
        run = resource_services.resource_delete(actor=request.user, resource=self.get_object())
        return Response(RunDetailSerializer(run).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        request=None,
        responses={200: SecretSerializer, 410: OpenApiResponse(description="Already shown")},
    )
    @action(detail=True, methods=["post"], url_path="reveal-secret")
    def reveal_secret(self, request, uuid=None):
        resource = self.get_object()
        try:
            plain = resource_services.secret_reveal(actor=request.user, resource=resource)
        except resource_services.SecretGone as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_410_GONE)
        response = Response({"name": resource.name, "password": str(plain)})
        response["Cache-Control"] = "no-store"
        return response


class RunbookViewSet(ServiceErrorsMixin, viewsets.ReadOnlyModelViewSet):
    """Runbooks (readable by everyone signed in). `POST …/run/` starts one: policies decide,
    high risk waits for an approval, and the run verifies its effect."""

    lookup_field = "slug"
    serializer_class = RunbookSerializer

    def get_queryset(self):
        return selectors.runbook_list()

    @extend_schema(
        request=RunbookRunCreateSerializer,
        responses={201: RunbookRunSerializer, 400: OpenApiResponse(), 403: OpenApiResponse()},
    )
    @action(detail=True, methods=["post"])
    def run(self, request, slug=None):
        incoming = RunbookRunCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        started = runbook_services.runbook_run_start(
            actor=request.user,
            runbook=self.get_object(),
            team=data["team"],
            parameters=data["parameters"],
            justification=data["justification"],
        )
        return Response(RunbookRunSerializer(started).data, status=status.HTTP_201_CREATED)


class RunbookRunViewSet(ServiceErrorsMixin, viewsets.ReadOnlyModelViewSet):
    """Runbook runs: on-call, platform admins and executives see all; others their teams'
    and their own. Another on-call engineer (or a team approver) approves a high-risk one."""

    lookup_field = "uuid"
    serializer_class = RunbookRunSerializer
    filterset_class = RunbookRunFilterSet
    # Decisions need a token with the approve scope (accounts.authentication reads this).
    token_scopes = {"approve": "approve", "reject": "approve"}

    def get_queryset(self):
        return selectors.runbook_run_list_visible(user=self.request.user)

    def _decide(self, request, decide):
        incoming = CommentSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        decided = decide(
            actor=request.user,
            runbook_run=self.get_object(),
            comment=incoming.validated_data["comment"],
        )
        return Response(RunbookRunSerializer(self.get_queryset().get(pk=decided.pk)).data)

    @extend_schema(request=CommentSerializer, responses={200: RunbookRunSerializer, 409: None})
    @action(detail=True, methods=["post"])
    def approve(self, request, uuid=None):
        return self._decide(request, runbook_services.runbook_run_approve)

    @extend_schema(request=CommentSerializer, responses={200: RunbookRunSerializer, 409: None})
    @action(detail=True, methods=["post"])
    def reject(self, request, uuid=None):
        return self._decide(request, runbook_services.runbook_run_reject)


class OrphanFindingViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """What the orphan scan found (open ones unless `resolved=true`): the caller's teams';
    platform admins and executives see all, including those with no known owner."""

    serializer_class = OrphanFindingSerializer
    filterset_class = OrphanFilterSet

    def get_queryset(self):
        findings = OrphanFinding.objects.select_related("team", "resource").order_by(
            "team__slug", "backend", "name"
        )
        if "resolved" not in self.request.query_params:
            findings = findings.filter(resolved_at__isnull=True)
        user = self.request.user
        if not permissions.sees_everything(user):
            findings = findings.filter(team_id__in=permissions.team_ids(user))
        return findings


class DriftFindingViewSet(
    ServiceErrorsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """What the drift scan found (open ones unless `resolved=true`): the caller's teams';
    platform admins, executives and on-call see all. The team's admins (and platform admins)
    accept a change; they and on-call re-apply the template version."""

    lookup_field = "uuid"
    serializer_class = DriftFindingSerializer
    filterset_class = DriftFilterSet

    def get_queryset(self):
        everything = "resolved" in self.request.query_params or self.action != "list"
        return selectors.drift_findings_visible(user=self.request.user, include_resolved=everything)

    def _resolve(self, request, resolve):
        try:
            finding = resolve(finding=self.get_object(), actor=request.user)
        except drift_services.DriftNotOpen as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        fresh = self.get_queryset().get(pk=finding.pk)
        return Response(DriftFindingSerializer(fresh).data)

    @extend_schema(request=None, responses={200: DriftFindingSerializer, 409: OpenApiResponse()})
    @action(detail=True, methods=["post"])
    def accept(self, request, uuid=None):
        """What the backend holds now becomes what SSOps expects of the resource."""
        return self._resolve(request, drift_services.drift_accept)

    @extend_schema(request=None, responses={200: DriftFindingSerializer, 409: OpenApiResponse()})
    @action(detail=True, methods=["post"])
    def reapply(self, request, uuid=None):
        """Apply the template version again (a task restores, then checks)."""
        return self._resolve(request, drift_services.drift_reapply)
