from django.apps import AppConfig


class SloConfig(AppConfig):
    name = "slo"
    verbose_name = "SLOs"

    def ready(self) -> None:
        from core import navigation

        navigation.register("SLOs", "slo:slo-list", order=50)
        from audit.authz import register_hidden_objects
        from slo.models import SLO

        register_hidden_objects(
            SLO,
            "key",
            ("uuid", "name"),
            ["slo:slo-detail", "api:slo-detail", "api:slo-snapshots", "api:slo-alert-events"],
        )
