from rest_framework.routers import DefaultRouter

from accounts.api import views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("tokens", views.TokenViewSet, basename="token")
router.register("service-tokens", views.ServiceTokenViewSet, basename="service-token")

urlpatterns = router.urls
