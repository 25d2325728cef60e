from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit store"

    def ready(self) -> None:
        from audit import signals  # noqa: F401  (connects the receivers)
