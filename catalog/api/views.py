"""The catalog API: everything the pages do, for scripts and the `ssops` CLI. Lists show only
what the caller may see; writes go through catalog.services, which checks each object."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog import selectors, services
from catalog.api import serializers as s
from catalog.filtersets import PolicyDecisionFilterSet, RequestFilterSet, TemplateFilterSet
from catalog.models import Quota, TemplateVersion
from catalog.policy.engine import PolicyModule, default_engine
from teams import permissions as access
from teams import selectors as team_selectors


class IsPlatformAdmin(permissions.BasePermission):
    message = "Only platform admins may change this."

    def has_permission(self, request, view):
        return access.is_platform_admin(request.user)


class ReadOrPlatformAdmin(IsPlatformAdmin):
    def has_permission(self, request, view):
        return request.method in permissions.SAFE_METHODS or super().has_permission(request, view)


def nested_errors(errors: dict[str, list[str]]) -> dict:
    """{"parameters.name": [...]} → {"parameters": {"name": [...]}} for API clients; errors
    about the parameters as a whole go under parameters.non_field_errors."""
    nested: dict = {}
    for key, messages in errors.items():
        section, _, name = key.partition(".")
        if section == "parameters":
            nested.setdefault("parameters", {})[name or "non_field_errors"] = messages
        else:
            nested[key] = messages
    return nested


class ServiceErrorsMixin:
    """Service exceptions as HTTP answers: field errors 400, a wrong state 409."""

    def handle_exception(self, exc):
        if isinstance(exc, services.RequestInvalid):
            exc = ValidationError(nested_errors(exc.errors))
        elif isinstance(exc, services.TransitionNotAllowed):
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        elif isinstance(exc, DjangoValidationError):
            exc = ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
        return super().handle_exception(exc)


class MeView(APIView):
    """Who the caller is: username, platform role and teams (the CLI checks a token with it)."""

    @extend_schema(responses=s.MeSerializer)
    def get(self, request):
        user = request.user
        teams = [
            {"slug": m.team.slug, "role": m.role}
            for m in user.memberships.select_related("team").order_by("team__slug")
        ]
        data = {
            "username": user.get_username(),
            "platform_admin": access.is_platform_admin(user),
            "teams": teams,
        }
        return Response(s.MeSerializer(data).data)


class TeamViewSet(ServiceErrorsMixin, viewsets.ReadOnlyModelViewSet):
    """Teams the caller belongs to (platform admins and executives see all), with their
    quota and budget usage; platform admins set quotas and budgets."""

    serializer_class = s.TeamSerializer
    lookup_field = "slug"

    def get_queryset(self):
        return team_selectors.team_list_visible(user=self.request.user).prefetch_related(
            "memberships__user"
        )

    @extend_schema(responses=s.UsageSerializer)
    @action(detail=True)
    def usage(self, request, slug=None):
        return Response(s.UsageSerializer(selectors.team_usage(team=self.get_object())).data)

    @extend_schema(responses=s.QuotaSerializer(many=True))
    @action(detail=True)
    def quotas(self, request, slug=None):
        """The team's quotas, one per resource kind, paginated like every list."""
        quotas = (
            Quota.objects.filter(team=self.get_object()).select_related("team").order_by("kind")
        )
        page = self.paginate_queryset(quotas)
        return self.get_paginated_response(s.QuotaSerializer(page, many=True).data)

    @extend_schema(request=s.QuotaSerializer, responses=s.QuotaSerializer)
    @action(
        detail=True,
        methods=["put"],
        url_path=r"quotas/(?P<kind>[a-z0-9][a-z0-9.-]{0,62})",
        permission_classes=[IsPlatformAdmin],
    )
    def set_quota(self, request, slug=None, kind=None):
        incoming = s.QuotaSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        quota = services.quota_set(
            actor=request.user, team=self.get_object(), kind=kind, **incoming.validated_data
        )
        return Response(s.QuotaSerializer(quota).data)

    @extend_schema(request=s.BudgetSerializer, responses=s.BudgetSerializer)
    @action(detail=True, methods=["put"], permission_classes=[IsPlatformAdmin])
    def budget(self, request, slug=None):
        incoming = s.BudgetSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        budget = services.budget_set(
            actor=request.user, team=self.get_object(), **incoming.validated_data
        )
        return Response(s.BudgetSerializer(budget).data)


class TemplateViewSet(ServiceErrorsMixin, viewsets.ReadOnlyModelViewSet):
    """The catalog: search with `q`, filter by `tag`, `risk_tier`, `owner`."""

    lookup_field = "slug"
    filterset_class = TemplateFilterSet

    def get_queryset(self):
        if self.action == "list":
            return selectors.template_list()
        return selectors.template_list(include_deprecated=True).prefetch_related("versions")

    def get_serializer_class(self):
        return s.TemplateSerializer if self.action == "list" else s.TemplateDetailSerializer

    @extend_schema(
        responses=s.TemplateVersionSerializer,
        description="One version, e.g. /api/templates/postgres-database/versions/1.0.0/",
    )
    @action(detail=True, url_path=r"versions/(?P<version>[0-9A-Za-z.+-]+)")
    def version(self, request, slug=None, version=None):
        found = get_object_or_404(TemplateVersion, template=self.get_object(), version=version)
        return Response(s.TemplateVersionSerializer(found).data)

    @extend_schema(request=s.DeprecateSerializer, responses=s.VersionSummarySerializer)
    @action(detail=True, methods=["post"], permission_classes=[IsPlatformAdmin])
    def deprecate(self, request, slug=None):
        incoming = s.DeprecateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        found = get_object_or_404(
            TemplateVersion, template=self.get_object(), version=incoming.validated_data["version"]
        )
        services.template_version_deprecate(
            actor=request.user, version=found, reason=incoming.validated_data["reason"]
        )
        found.refresh_from_db()
        return Response(s.VersionSummarySerializer(found).data)


class RequestViewSet(
    ServiceErrorsMixin,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Catalog requests the caller may see (their teams' and their own). Creating one runs
    validation, policies, quota and budget and answers with the new request: `denied` with
    reasons, `pending_approval`, or `provisioning` when approved at once."""

    lookup_field = "uuid"
    filterset_class = RequestFilterSet
    # Decisions need a token with the approve scope (accounts.authentication reads this).
    token_scopes = {"approve": "approve", "reject": "approve", "break_glass": "approve"}

    def get_queryset(self):
        requests = selectors.request_list_visible(user=self.request.user)
        if self.action == "retrieve":
            return requests.prefetch_related(
                "transitions__actor", "approvals__approver", "decisions__policy_version__policy"
            ).select_related("reservation")
        return requests

    def get_serializer_class(self):
        if self.action == "create":
            return s.RequestCreateSerializer
        return s.RequestDetailSerializer if self.action == "retrieve" else s.RequestSerializer

    @extend_schema(
        request=s.RequestCreateSerializer,
        responses={
            201: s.RequestSerializer,
            400: OpenApiResponse(description='Field errors, e.g. {"parameters": {"name": [...]}}'),
            403: OpenApiResponse(description="Not a member of the team"),
        },
    )
    def create(self, request, *args, **kwargs):
        incoming = s.RequestCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        created = services.request_submit(
            actor=request.user,
            template=data["template"],
            version=data["version"] or None,
            team=data["team"],
            parameters=data["parameters"],
            ttl_hours=data["ttl_hours"],
            justification=data["justification"],
            change_kind=data["change_kind"],
        )
        return Response(s.RequestSerializer(created).data, status=status.HTTP_201_CREATED)

    def _decided(self, request, done):
        done(self.get_object())
        fresh = self.get_queryset().get(pk=self.get_object().pk)
        return Response(s.RequestSerializer(fresh).data)

    def _decision(self, request, decide):
        comment = s.DecisionSerializer(data=request.data)
        comment.is_valid(raise_exception=True)
        return self._decided(
            request,
            lambda item: decide(
                request=item, actor=request.user, comment=comment.validated_data["comment"]
            ),
        )

    @extend_schema(request=s.DecisionSerializer, responses={200: s.RequestSerializer, 409: None})
    @action(detail=True, methods=["post"])
    def approve(self, request, uuid=None):
        """Approve (a team approver or platform admin; never the requester)."""
        return self._decision(request, services.request_approve)

    @extend_schema(request=s.DecisionSerializer, responses={200: s.RequestSerializer, 409: None})
    @action(detail=True, methods=["post"])
    def reject(self, request, uuid=None):
        """Reject with a comment saying why (who may: as for approve)."""
        return self._decision(request, services.request_reject)

    @extend_schema(request=None, responses={200: s.RequestSerializer, 409: None})
    @action(detail=True, methods=["post"])
    def cancel(self, request, uuid=None):
        return self._decided(
            request, lambda item: services.request_cancel(request=item, actor=request.user)
        )

    @extend_schema(request=s.BreakGlassSerializer, responses={200: s.RequestSerializer, 409: None})
    @action(detail=True, methods=["post"], url_path="break-glass")
    def break_glass(self, request, uuid=None):
        incoming = s.BreakGlassSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        return self._decided(
            request,
            lambda item: services.request_break_glass(
                request=item, actor=request.user, **incoming.validated_data
            ),
        )


class ApprovalViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The caller's approval inbox: requests waiting for a decision they may give (never
    their own)."""

    serializer_class = s.RequestSerializer

    def get_queryset(self):
        return selectors.approval_inbox(user=self.request.user)


class PolicyViewSet(
    ServiceErrorsMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.ReadOnlyModelViewSet,
):
    """Policies are readable by everyone signed in; platform admins create and change them.
    Each change makes a new version, refused unless it compiles and its examples pass."""

    serializer_class = s.PolicySerializer
    lookup_field = "slug"
    permission_classes = [permissions.IsAuthenticated, ReadOrPlatformAdmin]

    def get_queryset(self):
        return selectors.policy_list()

    def _save(self, data, instance=None):
        current = instance.current_version if instance else None
        version = data.get("current_version", {})
        policy, _ = services.policy_save(
            actor=self.request.user,
            slug=instance.slug if instance else data["slug"],
            title=data.get("title", instance.title if instance else ""),
            description=data.get("description", instance.description if instance else ""),
            enabled=data.get("enabled", instance.enabled if instance else True),
            mode=data.get("mode", current.mode if current else "enforce"),
            source=version.get("source", current.source if current else ""),
            examples=version.get("examples", current.examples if current else []),
        )
        return policy

    def perform_create(self, serializer):
        serializer.instance = self._save(serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = self._save(serializer.validated_data, serializer.instance)

    @extend_schema(request=s.PolicyTestSerializer, responses=s.VerdictSerializer)
    @action(detail=True, methods=["post"], permission_classes=[IsPlatformAdmin])
    def evaluate(self, request, slug=None):
        """Run the current version on an input (nothing is stored)."""
        policy = self.get_object()
        incoming = s.PolicyTestSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        verdict = default_engine().evaluate(
            PolicyModule(name=policy.slug, source=policy.current_version.source),
            incoming.validated_data["input"],
        )
        return Response(
            {
                "deny": list(verdict.deny),
                "warn": list(verdict.warn),
                "risk_tier": verdict.risk_tier,
                "error": verdict.error,
                "latency_ms": round(verdict.latency_ms, 3),
            }
        )


class PolicyDecisionViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Stored policy decisions, newest first (filter by policy, mode, outcome, request): all
    for platform admins and executives; for others, those of requests they may see."""

    serializer_class = s.PolicyDecisionSerializer
    filterset_class = PolicyDecisionFilterSet

    def get_queryset(self):
        decisions = selectors.decision_list()
        user = self.request.user
        if access.sees_everything(user):
            return decisions
        visible = selectors.request_list_visible(user=user).values("pk")
        return decisions.filter(request_id__in=visible)
