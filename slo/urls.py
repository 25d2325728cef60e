from django.urls import path

from slo import views

app_name = "slo"

urlpatterns = [
    path("slos/", views.slo_list, name="slo-list"),
    path("slos/assets/plotly.min.js", views.plotly_js, name="plotly-js"),
    path("slos/new/", views.slo_edit, name="slo-new"),
    path("slos/maintenance/", views.maintenance_list, name="maintenance-list"),
    path("slos/<str:key>/", views.slo_detail, name="slo-detail"),
    path("slos/<str:key>/edit/", views.slo_edit, name="slo-edit"),
]
