from rest_framework.routers import DefaultRouter

from slo.api.views import SLOViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("slos", SLOViewSet, basename="slo")

urlpatterns = router.urls
