from django.urls import path

from metrics import views

app_name = "metrics"

urlpatterns = [
    path("platform-metrics/", views.metric_list, name="metric-list"),
    path("platform-metrics/budgets/", views.budgets, name="budgets"),
    path("platform-metrics/<str:key>/", views.metric_detail, name="metric-detail"),
    path("platform-metrics/<str:key>/rows/", views.metric_rows, name="metric-rows"),
    path("incidents/", views.incident_list, name="incident-list"),
    path("incidents/open/", views.incident_open, name="incident-open"),
    path("incidents/<uuid:uuid>/", views.incident_detail, name="incident-detail"),
    path(
        "incidents/<uuid:uuid>/acknowledge/",
        views.incident_acknowledge,
        name="incident-acknowledge",
    ),
    path("incidents/<uuid:uuid>/actions/", views.incident_action, name="incident-action"),
    path("incidents/<uuid:uuid>/resolve/", views.incident_resolve, name="incident-resolve"),
    path("requests/<uuid:uuid>/rating/", views.request_rating, name="request-rating"),
    path("survey/", views.survey, name="survey"),
]
