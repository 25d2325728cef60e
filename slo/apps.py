from django.apps import AppConfig


class SloConfig(AppConfig):
    name = "slo"
    verbose_name = "SLOs"

    def ready(self) -> None:
        from core import navigation

        navigation.register("SLOs", "slo:slo-list", order=50)
        from audit.authz import register_hidden_objects
        from slo.models import SLO, BudgetAdjustment, Service

        register_hidden_objects(
            SLO,
            "key",
            ("uuid", "name"),
            [
                "slo:slo-detail",
                "slo:slo-edit",
                "api:slo-detail",
                "api:slo-snapshots",
                "api:slo-alert-events",
                "api:slo-backtest",
            ],
        )
        register_hidden_objects(
            Service, "service", ("name",), ["api:gate-detail", "api:gate-override"]
        )
        register_hidden_objects(
            BudgetAdjustment, "name", ("name",), ["api:budget-adjustment-detail"]
        )
