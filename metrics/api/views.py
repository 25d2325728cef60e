"""The platform-metrics API: every metric with its definition and stored figures, their
history, the rows each figure came from, and the reports (billing, budgets, audit gaps, job
runs, probes, incidents, ratings). Every list also answers CSV (`?format=csv`), whole."""

from __future__ import annotations

import io
from dataclasses import asdict

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, UnsupportedMediaType, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.models import Request
from catalog.selectors import request_list_visible
from core.filters import utc_moment
from core.jobs import job_runs_overview
from core.models import JobRun
from core.parsers import StrictJSONParser
from metrics import catalogue, selectors, services
from metrics.api import serializers as s
from metrics.api.renderers import CSVExportMixin
from metrics.choices import IncidentSeverity
from metrics.focus import FocusRefused
from metrics.models import OncallAction, SatisfactionRating
from metrics.periods import KINDS, Period, PeriodError, period_containing, period_parse
from teams import permissions as access
from teams.models import Team

PERIOD_PARAMETERS = [
    OpenApiParameter("period", OpenApiTypes.STR, enum=list(KINDS), description="default week"),
    OpenApiParameter(
        "at",
        OpenApiTypes.STR,
        description="the period: 2026-01-05, 2026-W02, 2026-01 or a date in it",
    ),
    OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv"]),
]


def period_from(params) -> Period:
    kind = params.get("period") or "week"
    try:
        if params.get("at"):
            return period_parse(kind, params["at"])
        return period_containing(kind, timezone.now())
    except PeriodError as exc:
        raise ValidationError({"at" if params.get("at") else "period": str(exc)}) from None


def metric_or_404(key: str) -> catalogue.Metric:
    try:
        return catalogue.metric_lookup(key)
    except KeyError:
        raise NotFound(f"no metric {key}: use M1 to M12 or a metric's slug") from None


def _target(target) -> dict | None:
    if target is None:
        return None
    trend = isinstance(target, catalogue.Trend)
    return {
        "kind": "trend" if trend else "threshold",
        "op": None if trend else target.op,
        "threshold": None if trend else target.threshold,
        "direction": target.direction if trend else None,
        "periods": target.periods if trend else None,
        "text": target.text,
        "dimension": target.dimension,
    }


def _metric(metric: catalogue.Metric, definitions: dict) -> dict:
    data = asdict(metric)
    data["target"] = _target(metric.target)
    definition = definitions.get(metric.key)
    data["definition_since"] = definition.since if definition else None
    data["history_recomputed_at"] = definition.recomputed_at if definition else None
    return data


def _definitions() -> dict:
    return {d.metric: d for d in selectors.metric_definitions()}


def _flat(figures: list[dict], metric: catalogue.Metric) -> list[dict]:
    """One CSV row per figure, with what the metric is."""
    return [
        {"metric": metric.key, "title": metric.title, "unit": metric.unit, **figure}
        for figure in figures
    ]


def _rows_url(request, metric: catalogue.Metric, period: Period) -> str:
    path = f"/api/platform-metrics/{metric.key}/rows/?period={period.kind}&at={period.label}"
    return request.build_absolute_uri(path)


class CSVAPIView(CSVExportMixin, APIView):
    pass


class MetricListView(CSVAPIView):
    """M1–M12, each with its definition, source, target and the headline figures of the period
    the caller may see (totals for executives, on-call and platform admins; each of their teams
    for others)."""

    csv_name = "platform-metrics"

    @extend_schema(parameters=PERIOD_PARAMETERS, responses=s.MetricWithFiguresSerializer(many=True))
    def get(self, request):
        period = period_from(request.query_params)
        views = selectors.metrics_overview(user=request.user, period=period, history=1)
        definitions = _definitions()
        data = []
        for view in views:
            figures = s.FigureSerializer(view.figures, many=True).data
            if request.accepted_renderer.format == "csv":
                data += _flat(figures, view.metric)
                continue
            data.append(
                {
                    **_metric(view.metric, definitions),
                    "period": period.label,
                    "figures": figures,
                    "rows_url": _rows_url(request, view.metric, period),
                }
            )
        return Response(data)


class MetricDetailView(CSVAPIView):
    """One metric: its definition and every figure of the period the caller may see (per team
    and dimension)."""

    @property
    def csv_name(self):
        return f"{self.kwargs['key']}-figures"

    @extend_schema(parameters=PERIOD_PARAMETERS, responses=s.MetricWithFiguresSerializer)
    def get(self, request, key):
        metric, period = metric_or_404(key), period_from(request.query_params)
        rows = selectors.metric_figures(user=request.user, metric=metric, period=period)
        figures = s.FigureSerializer(rows, many=True).data
        if request.accepted_renderer.format == "csv":
            return Response(_flat(figures, metric))
        return Response(
            {
                **_metric(metric, _definitions()),
                "period": period.label,
                "figures": figures,
                "rows_url": _rows_url(request, metric, period),
            }
        )


class MetricHistoryView(CSVAPIView):
    """One figure of a metric over past periods, oldest first (`team`: a slug, or none for the
    total; `dimension`: e.g. a template, none for the overall figure)."""

    @property
    def csv_name(self):
        return f"{self.kwargs['key']}-history"

    @extend_schema(
        parameters=[
            *PERIOD_PARAMETERS,
            OpenApiParameter("team", OpenApiTypes.STR),
            OpenApiParameter("dimension", OpenApiTypes.STR),
            OpenApiParameter("limit", OpenApiTypes.INT, description="periods, at most 400"),
        ],
        responses=s.FigureSerializer(many=True),
    )
    def get(self, request, key):
        metric, period = metric_or_404(key), period_from(request.query_params)
        team_id = None
        if request.query_params.get("team"):
            team = Team.objects.filter(slug=request.query_params["team"]).first()
            if team is None:
                raise ValidationError({"team": "no such team"})
            team_id = team.pk
        try:
            limit = min(max(int(request.query_params.get("limit", 60)), 1), 400)
        except ValueError:
            raise ValidationError({"limit": "a whole number of periods"}) from None
        rows = selectors.metric_history(
            user=request.user,
            metric=metric,
            kind=period.kind,
            team_id=team_id,
            dimension=request.query_params.get("dimension", ""),
            until=period.start,
            limit=limit,
        )
        return Response(s.FigureSerializer(rows, many=True).data)


class MetricRowsView(CSVAPIView):
    """The records one metric's figures for the period were computed from (those the caller
    may see): requests, decisions, probes, billing rows, ratings…"""

    @property
    def csv_name(self):
        return f"{self.kwargs['key']}-rows"

    @extend_schema(parameters=PERIOD_PARAMETERS, responses=OpenApiTypes.OBJECT)
    def get(self, request, key):
        metric, period = metric_or_404(key), period_from(request.query_params)
        rows = selectors.metric_rows(user=request.user, metric=metric, period=period)
        if request.accepted_renderer.format == "csv":
            return Response(rows)
        return Response(
            {"metric": metric.key, "period": period.label, "count": len(rows), "rows": rows}
        )


def query_moment(request, name: str):
    """The ISO 8601 time in query parameter `name`, or None when the parameter is absent; an
    empty or unreadable value is a 400 (never a silently ignored filter)."""
    if name not in request.query_params:
        return None
    moment = utc_moment(request.query_params[name])
    if moment is None:
        raise ValidationError({name: "use an ISO 8601 time such as 2026-11-01T00:00:00Z"})
    return moment


def filter_by_time(request, rows, since_lookup: str, until_lookup: str):
    for name, lookup in (("since", since_lookup), ("until", until_lookup)):
        moment = query_moment(request, name)
        if moment is not None:
            rows = rows.filter(**{lookup: moment})
    return rows


class SnapshotViewSet(CSVExportMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Every stored figure (filter by `metric`, `period` kind, `team`, `since`, `until`)."""

    serializer_class = s.FigureSerializer
    csv_name = "platform-metric-snapshots"
    filterset_class = None

    @extend_schema(
        parameters=[
            OpenApiParameter("metric", OpenApiTypes.STR),
            OpenApiParameter("period", OpenApiTypes.STR, enum=list(KINDS)),
            OpenApiParameter("team", OpenApiTypes.STR),
            OpenApiParameter("since", OpenApiTypes.DATETIME),
            OpenApiParameter("until", OpenApiTypes.DATETIME),
        ]
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def get_queryset(self):
        rows = selectors.snapshots_visible(user=self.request.user).order_by(
            "-period_start", "metric", "team_id", "dimension"
        )
        params = self.request.query_params
        if params.get("metric"):
            try:
                metric = catalogue.metric_lookup(params["metric"])
            except KeyError:  # a filter, not the object of the URL: a bad parameter
                raise ValidationError(
                    {"metric": [f"no metric {params['metric']}: use M1 to M12 or a slug"]}
                ) from None
            rows = rows.filter(metric=metric.key)
        if "period" in params:
            if params["period"] not in KINDS:
                raise ValidationError({"period": f"use one of {', '.join(KINDS)}"})
            rows = rows.filter(period_kind=params["period"])
        if params.get("team"):
            rows = rows.filter(team__slug=params["team"])
        return filter_by_time(self.request, rows, "period_start__gte", "period_start__lt")


# --- reports ---------------------------------------------------------------------------------


class SeesTotals(permissions.BasePermission):
    message = "Executives, on-call and platform admins see this report."

    def has_permission(self, request, view):
        return selectors.sees_totals(request.user)


class BillingImportViewSet(
    CSVExportMixin, mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """FOCUS imports (executives, on-call, platform admins). POST a file (multipart, platform
    admins) to import it like `billing_import`: whole or refused with row and column."""

    serializer_class = s.BillingImportSerializer
    permission_classes = [permissions.IsAuthenticated, SeesTotals]
    parser_classes = [MultiPartParser, FormParser]
    csv_name = "billing-imports"

    def get_queryset(self):
        return selectors.billing_imports_visible(user=self.request.user)

    @extend_schema(request=s.BillingUploadSerializer, responses={201: s.BillingImportSerializer})
    def create(self, request, *args, **kwargs):
        if not access.is_platform_admin(request.user):
            raise DjangoPermissionDenied("Only platform admins import billing files.")
        upload = s.BillingUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        file = upload.validated_data["file"]
        try:
            lines = io.TextIOWrapper(file.file, encoding="utf-8-sig", newline="")
            record = services.billing_import(actor=request.user, lines=lines, file_name=file.name)
        except FocusRefused as exc:
            raise ValidationError(
                {"file": [f"refused, nothing was imported: {p}" for p in exc.problems]}
            ) from None
        except UnicodeDecodeError:
            raise ValidationError({"file": ["refused: the file is not UTF-8"]}) from None
        return Response(s.BillingImportSerializer(record).data, status=status.HTTP_201_CREATED)


class BillingRowViewSet(CSVExportMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Imported FOCUS rows (executives, on-call, platform admins); filter by `since`/`until`
    (ChargePeriodStart), `resource_id`, `service`."""

    serializer_class = s.BillingRowSerializer
    permission_classes = [permissions.IsAuthenticated, SeesTotals]
    csv_name = "billing-rows"

    def get_queryset(self):
        rows = selectors.billing_rows_visible(user=self.request.user).order_by(
            "charge_period_start", "id"
        )
        params = self.request.query_params
        rows = filter_by_time(
            self.request, rows, "charge_period_start__gte", "charge_period_start__lt"
        )
        if params.get("resource_id"):
            rows = rows.filter(resource_id=params["resource_id"])
        if params.get("service"):
            rows = rows.filter(service_name=params["service"])
        return rows


class BudgetViewSet(CSVExportMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Each team's spend against its budget per month, its cost burn rate and whether the
    burn-rate alert fires (over 2×). Teams see their own; totals for executives and admins."""

    serializer_class = s.BudgetAlertSerializer
    csv_name = "budgets"

    def get_queryset(self):
        return selectors.budget_alerts_visible(user=self.request.user).order_by(
            "-month", "team__slug"
        )


class AuditGapViewSet(CSVExportMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Transitions whose audit event is missing or wrong, as the reconciliation job named them."""

    serializer_class = s.AuditGapSerializer
    csv_name = "audit-gaps"

    def get_queryset(self):
        return selectors.audit_gaps_visible(user=self.request.user).order_by("-occurred_at", "-id")


class UnexpectedActorViewSet(CSVExportMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Unexpected actors (F3) the watch over the audit trail flagged, newest first: the
    caller's teams'; on-call, executives and platform admins see all."""

    serializer_class = s.UnexpectedActorSerializer
    csv_name = "unexpected-actors"

    def get_queryset(self):
        return selectors.unexpected_actors_visible(user=self.request.user)


class JobRunViewSet(CSVExportMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Beat job runs, newest first (filter by `name`, `outcome`); `overview/` gives each job's
    last run, last success and failures in the last 24 hours."""

    serializer_class = s.JobRunSerializer
    permission_classes = [permissions.IsAuthenticated, SeesTotals]
    csv_name = "job-runs"

    def get_queryset(self):
        runs = JobRun.objects.order_by("-started_at", "-id")
        for name in ("name", "outcome"):
            if self.request.query_params.get(name):
                runs = runs.filter(**{name: self.request.query_params[name]})
        return runs

    @extend_schema(responses=s.JobOverviewSerializer(many=True))
    @action(detail=False, pagination_class=None, filter_backends=[])
    def overview(self, request):
        return Response(s.JobOverviewSerializer(job_runs_overview(), many=True).data)


class ProbeResultViewSet(CSVExportMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The catalog probe's results (M3), newest first; `since` (ISO 8601)."""

    serializer_class = s.ProbeResultSerializer
    csv_name = "catalog-probes"

    def get_queryset(self):
        return selectors.probes_recent(since=query_moment(self.request, "since"))


class IncidentViewSet(
    CSVExportMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Incidents, and the manual actions on-call logged against them (M9). On-call and platform
    admins open and resolve incidents and log actions; teams see their own incidents."""

    serializer_class = s.IncidentSerializer
    lookup_field = "uuid"
    csv_name = "incidents"
    # JSON only: an incident names lists (its SLOs and requests), which a form encoding cannot
    # tell from none, nor an empty name from a missing one.
    parser_classes = [StrictJSONParser]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        sends_body = self.action == "create" or (
            self.action == "actions" and request.method == "POST"
        )
        if sends_body and not (request.content_type or "").startswith("application/json"):
            raise UnsupportedMediaType(request.content_type, "Send the incident as JSON.")

    def get_queryset(self):
        return selectors.incidents_visible(user=self.request.user)

    def perform_create(self, serializer):
        data = serializer.validated_data
        try:
            serializer.instance = services.incident_open(
                actor=self.request.user,
                title=data["title"],
                team=data.get("team"),
                slos=data.get("slos", []),
                requests=data.get("requests", []),
                severity=data.get("severity") or IncidentSeverity.SEV2,
                started_at=data.get("started_at"),
            )
        except services.PlatformInvalid as exc:
            raise ValidationError(exc.errors) from None

    def _transition(self, change):
        try:
            incident = change(actor=self.request.user, incident=self.get_object())
        except services.PlatformInvalid as exc:
            return Response(exc.errors, status=status.HTTP_409_CONFLICT)
        return Response(s.IncidentSerializer(incident).data)

    @extend_schema(request=None, responses={200: s.IncidentSerializer, 409: None})
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, uuid=None):
        """On-call takes the incident (once): acknowledged now, owned by them if unowned."""
        return self._transition(services.incident_acknowledge)

    @extend_schema(request=None, responses={200: s.IncidentSerializer, 409: None})
    @action(detail=True, methods=["post"])
    def resolve(self, request, uuid=None):
        return self._transition(services.incident_resolve)

    @extend_schema(methods=["GET"], responses=s.OncallActionSerializer(many=True))
    @extend_schema(
        methods=["POST"],
        request=s.OncallActionSerializer,
        responses={201: s.OncallActionSerializer},
    )
    @action(detail=True, methods=["get", "post"])
    def actions(self, request, uuid=None):
        """GET: the actions logged, paginated like every list; POST {description,
        performed_at?}: log one (on-call)."""
        incident = self.get_object()
        if request.method == "GET":
            rows = OncallAction.objects.filter(incident=incident).select_related("actor")
            page = self.paginate_queryset(rows)
            if page is None:  # CSV: the whole list
                return Response(s.OncallActionSerializer(rows, many=True).data)
            return self.get_paginated_response(s.OncallActionSerializer(page, many=True).data)
        incoming = s.OncallActionSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            logged = services.oncall_action_log(
                actor=request.user,
                incident=incident,
                description=incoming.validated_data["description"],
                performed_at=incoming.validated_data.get("performed_at"),
            )
        except services.PlatformInvalid as exc:
            raise ValidationError(exc.errors) from None
        return Response(s.OncallActionSerializer(logged).data, status=status.HTTP_201_CREATED)


class RatingViewSet(
    CSVExportMixin, mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Satisfaction ratings (M12). POST {request, score 1–5, comment}: the requester rates a
    finished request (again: replaces the rating)."""

    serializer_class = s.RatingSerializer
    queryset = SatisfactionRating.objects.none()  # for the schema; lists use get_queryset
    csv_name = "ratings"

    def get_queryset(self):
        return selectors.ratings_visible(user=self.request.user).order_by("-created_at", "-id")

    @extend_schema(
        request=s.RatingInputSerializer,
        responses={201: s.RatingSerializer, 404: OpenApiResponse(description="No such request")},
    )
    def create(self, request, *args, **kwargs):
        incoming = s.RatingInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        rated = get_object_or_404(request_list_visible(user=request.user), uuid=data["request"])
        try:
            rating = services.rating_submit(
                actor=request.user,
                request=Request.objects.get(pk=rated.pk),
                score=data["score"],
                comment=data.get("comment", ""),
            )
        except services.PlatformInvalid as exc:
            raise ValidationError(exc.errors) from None
        return Response(s.RatingSerializer(rating).data, status=status.HTTP_201_CREATED)
