from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and API tokens"

    def ready(self) -> None:
        from core import navigation

        navigation.register("Tokens", "accounts:token-list", order=95)
        from accounts import signals  # noqa: F401  (connects the receivers)
        from accounts.models import ApiToken
        from audit.authz import register_hidden_objects

        register_hidden_objects(
            ApiToken,
            "uuid",
            ("uuid",),
            [
                "accounts:token-revoke",
                "accounts:service-token-rotate",
                "accounts:service-token-revoke",
                "api:token-detail",
                "api:token-revoke",
                "api:token-rotate",
                "api:service-token-detail",
                "api:service-token-rotate",
                "api:service-token-revoke",
            ],
        )
