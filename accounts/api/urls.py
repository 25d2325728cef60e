from django.urls import path
from rest_framework.routers import DefaultRouter

from accounts.api import oidc, views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("tokens", views.TokenViewSet, basename="token")
router.register("service-tokens", views.ServiceTokenViewSet, basename="service-token")

urlpatterns = [
    path("auth/oidc/", oidc.OidcSettingsView.as_view(), name="oidc-settings"),
    path("auth/oidc/device-token/", oidc.DeviceTokenView.as_view(), name="oidc-device-token"),
    *router.urls,
]
