app_name = "slo"

urlpatterns: list = []
