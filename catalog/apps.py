from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Service catalog"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from catalog.models import Webhook
        from catalog.provisioning.backends import register_backends
        from catalog.services.notifications import webhooks_changed

        register_backends()

        post_save.connect(webhooks_changed, sender=Webhook, dispatch_uid="catalog-webhooks")
        post_delete.connect(webhooks_changed, sender=Webhook, dispatch_uid="catalog-webhooks-del")
