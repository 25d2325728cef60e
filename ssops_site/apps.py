from django.apps import AppConfig


class SsopsSiteConfig(AppConfig):
    name = "ssops_site"
    verbose_name = "SSOps site"

    def ready(self) -> None:
        from ssops_site import telemetry

        telemetry.setup()
