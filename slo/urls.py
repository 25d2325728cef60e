from django.urls import path

from slo import views
from slo.platform import views as platform

app_name = "slo"

urlpatterns = [
    path("slos/", views.slo_list, name="slo-list"),
    path("slos/assets/plotly.min.js", views.plotly_js, name="plotly-js"),
    path("slos/<str:key>/", views.slo_detail, name="slo-detail"),
    path("platform-metrics/", platform.metric_list, name="metric-list"),
    path("platform-metrics/budgets/", platform.budgets, name="budgets"),
    path("platform-metrics/<str:key>/", platform.metric_detail, name="metric-detail"),
    path("incidents/", platform.incident_list, name="incident-list"),
    path("incidents/open/", platform.incident_open, name="incident-open"),
    path("incidents/<uuid:uuid>/actions/", platform.incident_action, name="incident-action"),
    path("incidents/<uuid:uuid>/resolve/", platform.incident_resolve, name="incident-resolve"),
    path("requests/<uuid:uuid>/rating/", platform.request_rating, name="request-rating"),
]
