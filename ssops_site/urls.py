from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts.signin import LoginView
from core import views as core_views
from dashboards.views import home

api_patterns = [
    path("", include("accounts.api.urls")),
    path("", include("catalog.api.urls")),
    path("", include("provisioning.api.urls")),
    path("", include("audit.api.urls")),
    path("", include("slo.api.urls")),
    path("", include("metrics.api.urls")),
    path("", include("dashboards.api.urls")),
]

handler404 = core_views.not_found

urlpatterns = [
    path("", home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("metrics", core_views.metrics, name="metrics"),
    path("accounts/login/", LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file, so the CSP needs no inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("api/", include((api_patterns, "api"))),
    path("", include("accounts.urls")),
    path("", include("catalog.urls")),
    path("", include("provisioning.urls")),
    path("", include("audit.urls")),
    path("", include("slo.urls")),
    path("", include("metrics.urls")),
    path("", include("dashboards.urls")),
]
