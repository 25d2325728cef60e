from rest_framework.routers import DefaultRouter

from slo.api.views import BudgetAdjustmentViewSet, GateViewSet, SLOViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("slos", SLOViewSet, basename="slo")
router.register("gates", GateViewSet, basename="gate")
router.register("budget-adjustments", BudgetAdjustmentViewSet, basename="budget-adjustment")

urlpatterns = router.urls
