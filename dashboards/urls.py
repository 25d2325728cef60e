from django.urls import path

from dashboards import views

app_name = "dashboards"

urlpatterns = [
    path("dashboards/executive/", views.executive, name="executive"),
    path("dashboards/oncall/", views.oncall, name="oncall"),
    path("dashboards/debug/<uuid:uuid>/", views.debug, name="debug"),
    path("dashboards/slos/<str:key>/", views.slo, name="slo"),
]
