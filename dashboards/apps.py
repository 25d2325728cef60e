from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    name = "dashboards"
    verbose_name = "Dashboards"

    def ready(self) -> None:
        from core import navigation

        navigation.register("Executive", "dashboards:executive", order=70)
        navigation.register("On-call", "dashboards:oncall", order=80)
        from audit.authz import register_hidden_objects
        from catalog.models import Request
        from slo.models import SLO

        register_hidden_objects(Request, "uuid", ("uuid",), ["dashboards:debug"])
        register_hidden_objects(SLO, "key", ("uuid", "name"), ["dashboards:slo"])
