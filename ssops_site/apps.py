from django.apps import AppConfig


class SsopsSiteConfig(AppConfig):
    """The project package: settings, URLs, the Celery app and WSGI. It is an app only to keep
    its migration history (its models moved to `core`)."""

    name = "ssops_site"
    verbose_name = "SSOps site"
