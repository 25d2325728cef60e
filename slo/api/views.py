from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError

from core.filters import utc_moment
from slo.api.serializers import AlertEventSerializer, SLOSerializer, SnapshotSerializer
from slo.filtersets import SLOFilterSet
from slo.selectors import (
    slo_alert_events,
    slo_can_edit,
    slo_get_visible,
    slo_snapshots,
    slo_visible,
)
from slo.services import slo_delete, slo_save


class SLOViewSet(viewsets.ModelViewSet):
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
