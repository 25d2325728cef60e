from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "metrics"
    verbose_name = "Platform metrics"

    def ready(self) -> None:
        from catalog import panels
        from core import banners, navigation
        from metrics.panels import rating, survey

        panels.register(rating)
        banners.register(survey)
        navigation.register("Metrics", "metrics:metric-list", order=60)
        from audit.authz import register_hidden_objects
        from catalog.models import Request
        from metrics.models import Incident
        from metrics.sources import PlatformRecordsSource
        from slo.sources.factory import register_source_kind

        register_source_kind("platform", lambda key: PlatformRecordsSource())
        register_hidden_objects(
            Incident,
            "uuid",
            ("uuid",),
            [
                "metrics:incident-detail",
                "metrics:incident-acknowledge",
                "metrics:incident-action",
                "metrics:incident-resolve",
                "api:incident-detail",
                "api:incident-actions",
                "api:incident-resolve",
                "api:incident-acknowledge",
            ],
        )
        register_hidden_objects(Request, "uuid", ("uuid",), ["metrics:request-rating"])
