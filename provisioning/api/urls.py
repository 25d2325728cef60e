from rest_framework.routers import DefaultRouter

from provisioning.api import views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("runs", views.RunViewSet, basename="run")
router.register("steps", views.StepViewSet, basename="step")
router.register("resources", views.ResourceViewSet, basename="resource")
router.register("runbooks", views.RunbookViewSet, basename="runbook")
router.register("runbook-runs", views.RunbookRunViewSet, basename="runbook-run")
router.register("orphan-findings", views.OrphanFindingViewSet, basename="orphan-finding")
router.register("drift-findings", views.DriftFindingViewSet, basename="drift-finding")

urlpatterns = router.urls
