from django.urls import path

from slo import views

app_name = "slo"

urlpatterns = [
    path("slos/", views.slo_list, name="slo-list"),
    path("slos/assets/plotly.min.js", views.plotly_js, name="plotly-js"),
    path("slos/<str:key>/", views.slo_detail, name="slo-detail"),
]
