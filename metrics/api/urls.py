from django.urls import path
from rest_framework.routers import DefaultRouter

from metrics.api import views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("platform-metric-snapshots", views.SnapshotViewSet, basename="platform-snapshot")
router.register("billing/imports", views.BillingImportViewSet, basename="billing-import")
router.register("billing/rows", views.BillingRowViewSet, basename="billing-row")
router.register("budgets", views.BudgetViewSet, basename="budget")
router.register("audit-gaps", views.AuditGapViewSet, basename="audit-gap")
router.register("unexpected-actors", views.UnexpectedActorViewSet, basename="unexpected-actor")
router.register("job-runs", views.JobRunViewSet, basename="job-run")
router.register("probes", views.ProbeResultViewSet, basename="probe")
router.register("incidents", views.IncidentViewSet, basename="incident")
router.register("ratings", views.RatingViewSet, basename="rating")

urlpatterns = [
    path("platform-metrics/", views.MetricListView.as_view(), name="platform-metric-list"),
    path(
        "platform-metrics/<str:key>/",
        views.MetricDetailView.as_view(),
        name="platform-metric-detail",
    ),
    path(
        "platform-metrics/<str:key>/history/",
        views.MetricHistoryView.as_view(),
        name="platform-metric-history",
    ),
    path(
        "platform-metrics/<str:key>/rows/",
        views.MetricRowsView.as_view(),
        name="platform-metric-rows",
    ),
    *router.urls,
]
