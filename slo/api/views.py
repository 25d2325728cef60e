from datetime import UTC, datetime, timedelta

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from core.filters import utc_moment
from slo.api.serializers import (
    AlertEventSerializer,
    BacktestQuerySerializer,
    BacktestSerializer,
    BudgetAdjustmentSerializer,
    FreezeOverrideInputSerializer,
    FreezeOverrideSerializer,
    GateClosedSerializer,
    GateOpenSerializer,
    SLOSerializer,
    SnapshotSerializer,
)
from slo.backtest import BacktestError
from slo.filtersets import SLOFilterSet
from slo.models import SLO
from slo.selectors import (
    adjustments_visible,
    service_for_gate,
    service_freeze,
    slo_alert_events,
    slo_can_edit,
    slo_get_visible,
    slo_snapshots,
    slo_visible,
)
from slo.services import (
    adjustment_create,
    adjustment_delete,
    freeze_override_create,
    freeze_override_end,
    slo_delete,
    slo_save,
)
from slo.services.backtests import slo_backtest_draft, slo_backtest_run


def _backtest_query(request) -> tuple[float, datetime]:
    query = BacktestQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    at = query.validated_data.get("at") or timezone.now()
    return query.validated_data["days"], at.astimezone(UTC).replace(second=0, microsecond=0)


BACKTEST_PARAMETERS = [
    OpenApiParameter("days", OpenApiTypes.NUMBER, description="1 to 90 (default 30)"),
    OpenApiParameter("at", OpenApiTypes.DATETIME, description="the end (default: now)"),
]


class SLOBacktestMixin:
    """Backtests of a saved SLO, and of one as edited before it is saved."""

    @extend_schema(
        parameters=BACKTEST_PARAMETERS,
        responses={200: BacktestSerializer, 400: OpenApiResponse(description="bad parameters")},
    )
    @action(detail=True, methods=["get"], url_path="backtest")
    def backtest(self, request, key=None):
        """Replay the SLO's alert rules over the past days of its history at a 1-minute step
        (the same maths as live evaluation), beside the alerts it really raised."""
        days, at = _backtest_query(request)
        slo = self.get_object()
        try:
            report = slo_backtest_run(slo=slo, days=days, at=at)
        except BacktestError as exc:
            raise ValidationError({"detail": str(exc)}) from None
        return Response(BacktestSerializer(report.as_dict()).data)

    @extend_schema(
        parameters=BACKTEST_PARAMETERS,
        request=SLOSerializer,
        responses={
            200: BacktestSerializer,
            400: OpenApiResponse(description="field errors, as when saving"),
            403: OpenApiResponse(description="not an admin of the SLO's team"),
        },
    )
    @action(detail=False, methods=["post"], url_path="backtest")
    def backtest_draft(self, request):
        """Backtest an SLO as written (the body of a create or update), without saving it
        (platform admins and the team's admins, who may save it)."""
        days, at = _backtest_query(request)
        serializer = SLOSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        validated = dict(serializer.validated_data)
        if not slo_can_edit(user=request.user, team_id=validated["team"].pk):
            raise PermissionDenied("Only platform admins and the team's admins backtest its SLOs.")
        service = validated.pop("service")["name"]
        validated.pop("alert_policies", None)
        slo = SLO(**validated)
        existing = SLO.objects.filter(name=slo.name, parent=None).first()
        if existing is not None:
            slo.pk = existing.pk  # an edit: compared with the alerts it really raised
        try:
            report = slo_backtest_draft(slo=slo, service_name=service, days=days, at=at)
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from None
        except BacktestError as exc:
            raise ValidationError({"detail": str(exc)}) from None
        return Response(BacktestSerializer(report.as_dict()).data)


class GateViewSet(viewsets.ViewSet):
    """The deploy gate of a service for CI/CD: open, or closed while the service's change
    freeze holds (an SLO has spent its error budget or is paging)."""

    lookup_field = "service"
    lookup_value_regex = "[^/]+"

    @extend_schema(
        responses={
            200: OpenApiResponse(GateOpenSerializer, description="open"),
            409: OpenApiResponse(GateClosedSerializer, description="frozen: the reasons"),
            404: OpenApiResponse(description="no such service (or not yours to see)"),
        }
    )
    def retrieve(self, request, service=None):
        found = service_for_gate(user=request.user, name=service)
        freeze = service_freeze(service=found, now=timezone.now())
        body = {
            "open": not freeze.frozen,
            "service": found.name,
            "slos": [standing.as_dict() for standing in freeze.slos],
        }
        if freeze.frozen:
            body["reasons"] = freeze.reasons
            return Response(GateClosedSerializer(body).data, status=status.HTTP_409_CONFLICT)
        return Response(GateOpenSerializer(body).data)

    @extend_schema(
        methods=["POST"],
        request=FreezeOverrideInputSerializer,
        responses={
            201: FreezeOverrideSerializer,
            400: OpenApiResponse(description="field errors"),
            403: OpenApiResponse(description="platform admins only"),
        },
    )
    @extend_schema(
        methods=["DELETE"],
        responses={204: None, 403: OpenApiResponse(description="platform admins only")},
    )
    @action(detail=True, methods=["post", "delete"])
    def override(self, request, service=None):
        """A platform admin lifts the service's freeze for some hours, with a reason (the gate
        and the catalog's freeze policy stay open meanwhile), or ends it early (DELETE). The
        SLO pages and the executive dashboard show a running override."""
        found = service_for_gate(user=request.user, name=service)
        try:
            if request.method == "DELETE":
                freeze_override_end(actor=request.user, service=found)
                return Response(status=status.HTTP_204_NO_CONTENT)
            given = FreezeOverrideInputSerializer(data=request.data)
            given.is_valid(raise_exception=True)
            override = freeze_override_create(
                actor=request.user, service=found, **given.validated_data
            )
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from None
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from None
        return Response(FreezeOverrideSerializer(override).data, status=status.HTTP_201_CREATED)


class BudgetAdjustmentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Planned maintenance of the services the caller may see. Team admins plan it ahead of
    time; once a window has begun, only platform admins add or remove it, with a reason."""

    serializer_class = BudgetAdjustmentSerializer
    lookup_field = "name"
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        return adjustments_visible(user=self.request.user)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        try:
            serializer.instance = adjustment_create(
                actor=self.request.user,
                service=data["service"],
                slo=data.get("slo"),
                name=data["name"],
                first_start=data["first_start"],
                duration=timedelta(seconds=data["duration_seconds"]),
                rrule=data.get("rrule", ""),
                description=data.get("description", ""),
                reason=data.get("reason", ""),
            )
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from None
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from None

    @extend_schema(
        parameters=[
            OpenApiParameter("reason", str, description="required once the window has begun")
        ]
    )
    def destroy(self, request, *args, **kwargs):
        return super().destroy(request, *args, **kwargs)

    def perform_destroy(self, instance):
        try:
            adjustment_delete(
                actor=self.request.user,
                adjustment=instance,
                reason=self.request.query_params.get("reason", ""),
            )
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from None
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from None


class SLOViewSet(SLOBacktestMixin, viewsets.ModelViewSet):
    """SLOs the caller may see (their teams'; all for platform admins, executives and on-call).

    Platform admins and admins of the owner team may create, change and delete them; every
    change is validated like an import and audited. `{key}` is the SLO's UUID or its name.
    """

    serializer_class = SLOSerializer
    filterset_class = SLOFilterSet
    lookup_field = "key"
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        return (
            slo_visible(user=self.request.user).prefetch_related("alert_policies").order_by("name")
        )

    def get_object(self):
        slo = slo_get_visible(user=self.request.user, key=self.kwargs["key"])
        self.check_object_permissions(self.request, slo)
        return slo

    def _require_edit(self, team_id) -> None:
        if not slo_can_edit(user=self.request.user, team_id=team_id):
            raise PermissionDenied("Only platform admins and the owner team's admins change SLOs.")

    def _save(self, serializer, instance=None):
        actor = self.request.user
        team = serializer.validated_data.get("team")
        if instance is not None:
            self._require_edit(instance.team_id)
        self._require_edit(team.pk if team else instance.team_id)

        def save(*, slo, service_name, policies):
            return slo_save(
                actor=actor, slo=slo, service_name=service_name, alert_policies=policies
            )

        serializer.instance = serializer.save_with(save, instance, serializer.validated_data)

    def perform_create(self, serializer):
        self._save(serializer)

    def perform_update(self, serializer):
        self._save(serializer, serializer.instance)

    def perform_destroy(self, instance):
        self._require_edit(instance.team_id)
        try:
            slo_delete(actor=self.request.user, slo=instance)
        except DjangoValidationError as exc:
            raise ValidationError({"detail": exc.messages}) from None

    @extend_schema(
        responses=SnapshotSerializer(many=True),
        parameters=[OpenApiParameter("since", OpenApiTypes.DATETIME, description="ISO 8601")],
    )
    @action(detail=True, methods=["get"])
    def snapshots(self, request, key=None):
        """Stored evaluations of the SLO, newest first (every minute, hourly after two days)."""
        since = request.query_params.get("since")
        moment = utc_moment(since) if since else None
        if since and moment is None:
            raise ValidationError({"since": "use ISO 8601, e.g. 2026-01-01T00:00:00Z"})
        snapshots = slo_snapshots(slo=self.get_object(), since=moment)
        page = self.paginate_queryset(snapshots)
        return self.get_paginated_response(SnapshotSerializer(page, many=True).data)

    @extend_schema(responses=AlertEventSerializer(many=True))
    @action(detail=True, methods=["get"], url_path="alert-events")
    def alert_events(self, request, key=None):
        """The SLO's alert history: each page or ticket that fired or resolved, paginated."""
        events = slo_alert_events(slo=self.get_object(), limit=None)
        page = self.paginate_queryset(events)
        return self.get_paginated_response(AlertEventSerializer(page, many=True).data)
