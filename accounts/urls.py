from django.urls import path

from accounts import signin, views

app_name = "accounts"

urlpatterns = [
    path("oidc/login/", signin.oidc_start, name="oidc-login"),
    path("oidc/callback/", signin.oidc_callback, name="oidc-callback"),
    path("accounts/tokens/", views.token_list, name="token-list"),
    path("accounts/tokens/<uuid:uuid>/revoke/", views.token_revoke, name="token-revoke"),
    path("accounts/service-tokens/", views.service_token_list, name="service-token-list"),
    path(
        "accounts/service-tokens/<uuid:uuid>/rotate/",
        views.service_token_rotate,
        name="service-token-rotate",
    ),
    path(
        "accounts/service-tokens/<uuid:uuid>/revoke/",
        views.service_token_revoke,
        name="service-token-revoke",
    ),
]
