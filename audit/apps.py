from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit store"

    def ready(self) -> None:
        from core import navigation

        navigation.register("Audit", "audit:event-list", order=90)
        from audit import signals  # noqa: F401  (connects the receivers)
        from audit.authz import register_hidden_objects
        from audit.models import AuditEvent

        register_hidden_objects(
            AuditEvent, "uuid", ("uuid",), ["audit:event-detail", "api:audit-event-detail"]
        )
