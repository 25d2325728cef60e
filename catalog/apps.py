from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Service catalog"

    def ready(self) -> None:
        from core import navigation

        navigation.register("Catalog", "catalog:template-list", order=10)
        navigation.register("Requests", "catalog:request-list", order=20)
        navigation.register("Approvals", "catalog:approval-inbox", order=30)
        from django.db.models.signals import post_delete, post_save

        from audit.authz import register_hidden_objects
        from catalog.models import Request, Webhook
        from catalog.services.notifications import webhooks_changed
        from teams.models import Team

        post_save.connect(webhooks_changed, sender=Webhook, dispatch_uid="catalog-webhooks")
        post_delete.connect(webhooks_changed, sender=Webhook, dispatch_uid="catalog-webhooks-del")

        register_hidden_objects(
            Request,
            "uuid",
            ("uuid",),
            [
                "catalog:request-detail",
                "catalog:request-timeline",
                "catalog:request-approve",
                "catalog:request-reject",
                "catalog:request-cancel",
                "catalog:request-break-glass",
                "api:request-detail",
                "api:request-approve",
                "api:request-reject",
                "api:request-cancel",
                "api:request-break-glass",
            ],
        )
        register_hidden_objects(
            Team,
            "slug",
            ("slug",),
            [
                "catalog:team-usage",
                "api:team-detail",
                "api:team-usage",
                "api:team-quotas",
                "api:team-budget",
                "api:team-set-quota",
            ],
        )
