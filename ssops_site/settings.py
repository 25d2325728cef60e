"""SSOps settings: every value comes from the environment (see docs/configuration.md).

A bad value raises ImproperlyConfigured naming the variable. Defaults give a working demo:
SQLite under var/, an embedded Celery broker, no Prometheus.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from pathlib import Path

from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from core import env

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env.get_str("SSOPS_VAR_DIR", str(BASE_DIR / "var")))


def _read_or_create_secret(path: Path) -> str:
    """A per-install secret kept in var/ so that a demo needs no configuration."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


try:
    DEBUG = env.get_bool("DJANGO_DEBUG", False)
    SECRET_KEY = env.get_str("DJANGO_SECRET_KEY") or _read_or_create_secret(VAR_DIR / "secret_key")
    ALLOWED_HOSTS = env.get_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
    DATABASE = env.get_database("DATABASE_URL", VAR_DIR / "ssops.sqlite3")
    # Seconds a database connection is kept for the next request (0: one per request).
    DATABASE_CONN_MAX_AGE = env.get_int("DATABASE_CONN_MAX_AGE", 600, minimum=0)
    CELERY_BROKER_URL = env.get_broker_url("CELERY_BROKER_URL")
    PROMETHEUS_URL = env.get_url("PROMETHEUS_URL")
    ALERTMANAGER_URL = env.get_url("ALERTMANAGER_URL")
    # Where people reach SSOps: used in links sent out (alerts, e-mails, webhooks).
    SSOPS_BASE_URL = env.get_url("SSOPS_BASE_URL", "http://127.0.0.1:8000")
    # TLS-only settings (HSTS, secure cookies, redirect) are on unless DEBUG is on; a local demo
    # over plain http on 127.0.0.1 turns them off explicitly with DJANGO_SECURE_SSL=0.
    SECURE_SSL = env.get_bool("DJANGO_SECURE_SSL", not DEBUG)
    BEHIND_PROXY = env.get_bool("DJANGO_BEHIND_PROXY", False)
    AUDIT_HMAC_KEY = env.get_str("SSOPS_AUDIT_KEY") or f"audit-checkpoint:{SECRET_KEY}"
    TRACES_EXPORTER = env.get_str("OTEL_TRACES_EXPORTER", "none").strip().lower()
    PROMETHEUS_TIMEOUT = env.get_int("SSOPS_PROMETHEUS_TIMEOUT", 10, minimum=1)
    CELERY_TASK_ALWAYS_EAGER = env.get_bool("SSOPS_CELERY_EAGER", False)
    # SLO evaluation in batches of this many SLOs, one Celery task each, so several workers
    # share it; 0 evaluates every SLO in the beat job's own task (one machine).
    SLO_BATCH_SIZE = env.get_int("SSOPS_SLO_BATCH_SIZE", 0, minimum=0)
    # A grouped SLO measured as more groups than this is reported unavailable, not evaluated.
    SLO_MAX_GROUPS = env.get_int("SSOPS_SLO_MAX_GROUPS", 500, minimum=1)
    # Login throttling: this many failures for one account within the window lock it for the
    # rest of the window.
    LOGIN_FAILURE_LIMIT = env.get_int("SSOPS_LOGIN_FAILURE_LIMIT", 5, minimum=1)
    LOGIN_FAILURE_WINDOW = env.get_int("SSOPS_LOGIN_FAILURE_WINDOW", 900, minimum=60)
    # API rate limits ("N/s", "N/min", "N/hour", "N/day" or "off"); counted in the cache.
    API_RATE_USER = env.get_rate("SSOPS_API_RATE_USER", "1200/min")
    API_RATE_ANON = env.get_rate("SSOPS_API_RATE_ANON", "60/min")
    CACHE_URL = env.get_str("SSOPS_CACHE_URL", "").strip()
    # Provisioning engine (catalog/provisioning; README "Provisioning, resources and runbooks").
    # Fernet keys for secrets at rest, newest first (older ones still decrypt). Without one,
    # a key is derived from the secret key only when that key is generated (demo, tests) or
    # DEBUG is on; in production SSOps refuses to store secrets until it is set.
    SECRETS_KEYS = env.get_list("SSOPS_SECRETS_KEY", [])
    SECRETS_KEY_DERIVED = not SECRETS_KEYS and (DEBUG or not env.get_str("DJANGO_SECRET_KEY"))
    PROVISION_POSTGRES_URL = env.get_str("SSOPS_PROVISION_POSTGRES_URL").strip()
    if PROVISION_POSTGRES_URL and not env.parse_database_url(
        "SSOPS_PROVISION_POSTGRES_URL", PROVISION_POSTGRES_URL
    ).engine.endswith("postgresql"):
        raise env.EnvError("SSOPS_PROVISION_POSTGRES_URL must be a postgresql:// URL")
    PROVISION_PREFIX = env.get_str("SSOPS_PROVISION_PREFIX", "ssops_")
    KUBECONFIG = env.get_str("SSOPS_KUBECONFIG").strip()
    if KUBECONFIG and not Path(KUBECONFIG).is_file():
        raise env.EnvError(f"SSOPS_KUBECONFIG={KUBECONFIG!r} is not a readable file")
    KUBE_CONTEXT = env.get_str("SSOPS_KUBE_CONTEXT").strip()
    KUBERNETES_VERSION = env.get_str("SSOPS_KUBERNETES_VERSION", "1.31").strip()
    WEBHOOK_URLS = [
        env.get_url("SSOPS_WEBHOOK_URLS", environ={"SSOPS_WEBHOOK_URLS": url})
        for url in env.get_list("SSOPS_WEBHOOK_URLS", [])
    ]
    WEBHOOK_SECRET = env.get_str("SSOPS_WEBHOOK_SECRET")
    RUNBOOK_REDIS_URL = env.get_broker_url("SSOPS_RUNBOOK_REDIS_URL")
    PROVISION_MAX_RETRIES = env.get_int("SSOPS_PROVISION_MAX_RETRIES", 5, minimum=0)
    PROVISION_RETRY_DELAY = env.get_int("SSOPS_PROVISION_RETRY_DELAY", 2, minimum=0)
    EXPIRY_WARNING_HOURS = env.get_list("SSOPS_EXPIRY_WARNING_HOURS", ["72", "24"])
    # The team that owns SSOps itself: its own SLOs and the alerts about policies.
    PLATFORM_TEAM = env.get_str("SSOPS_PLATFORM_TEAM", "platform").strip() or "platform"
    # A policy's deny rate over the last hour above this multiple of its 7-day baseline, with at
    # least this many denies in the hour, opens a ticket.
    DENY_SPIKE_FACTOR = env.get_int("SSOPS_DENY_SPIKE_FACTOR", 3, minimum=1)
    DENY_SPIKE_MIN_DENIES = env.get_int("SSOPS_DENY_SPIKE_MIN_DENIES", 5, minimum=1)
    # M10 counts resources orphaned for more than this many days.
    ORPHAN_AGE_DAYS = env.get_int("SSOPS_ORPHAN_AGE_DAYS", 7, minimum=0)
    if not all(hours.isdigit() and int(hours) > 0 for hours in EXPIRY_WARNING_HOURS):
        raise env.EnvError(
            f"SSOPS_EXPIRY_WARNING_HOURS={','.join(EXPIRY_WARNING_HOURS)!r} must list whole "
            "numbers of hours, e.g. 72,24"
        )
    # API tokens (docs/security.md#api-tokens): the lifetime a new token gets unless asked
    # otherwise and the longest anyone may ask for, in days; how long the old token of a
    # rotation keeps working, in hours; expiry warnings, in days before.
    TOKEN_DEFAULT_DAYS = env.get_int("SSOPS_TOKEN_DEFAULT_DAYS", 90, minimum=1)
    TOKEN_MAX_DAYS = env.get_int("SSOPS_TOKEN_MAX_DAYS", 365, minimum=1)
    if TOKEN_DEFAULT_DAYS > TOKEN_MAX_DAYS:
        raise env.EnvError(
            f"SSOPS_TOKEN_DEFAULT_DAYS={TOKEN_DEFAULT_DAYS} is above SSOPS_TOKEN_MAX_DAYS="
            f"{TOKEN_MAX_DAYS}: a new token would outlive the platform's maximum"
        )
    TOKEN_ROTATION_OVERLAP_HOURS = env.get_int("SSOPS_TOKEN_ROTATION_OVERLAP_HOURS", 24, minimum=0)
    TOKEN_WARNING_DAYS = env.get_list("SSOPS_TOKEN_WARNING_DAYS", ["14", "3"])
    if not all(days.isdigit() and int(days) > 0 for days in TOKEN_WARNING_DAYS):
        raise env.EnvError(
            f"SSOPS_TOKEN_WARNING_DAYS={','.join(TOKEN_WARNING_DAYS)!r} must list whole numbers "
            "of days, e.g. 14,3"
        )
except env.EnvError as exc:
    raise ImproperlyConfigured(str(exc)) from None

# OpenID Connect sign-in (docs/identity.md): off unless OIDC_ISSUER is set.
try:
    OIDC_ISSUER = env.get_url("OIDC_ISSUER")
    OIDC_CLIENT_ID = env.get_str("OIDC_CLIENT_ID").strip()
    OIDC_CLIENT_SECRET = env.get_str("OIDC_CLIENT_SECRET")  # or OIDC_CLIENT_SECRET_FILE
    # The provider's client for `ssops login` (a public client with the device grant).
    OIDC_CLI_CLIENT_ID = env.get_str("OIDC_CLI_CLIENT_ID").strip() or OIDC_CLIENT_ID
    OIDC_GROUPS_CLAIM = env.get_str("OIDC_GROUPS_CLAIM", "groups").strip() or "groups"
    # Entra ID has no `groups` scope (its groups claim is set in the app registration).
    OIDC_SCOPES = env.get_str("SSOPS_OIDC_SCOPES", "openid profile email groups").strip()
    OIDC_PROVIDER_NAME = env.get_str("SSOPS_OIDC_PROVIDER_NAME", "your identity provider")
    OIDC_TIMEOUT = env.get_int("SSOPS_OIDC_TIMEOUT", 10, minimum=1)
    # Days a token minted by `ssops login` lives.
    OIDC_CLI_TOKEN_DAYS = env.get_int("SSOPS_OIDC_CLI_TOKEN_DAYS", 7, minimum=1)
    LOCAL_LOGIN = env.get_bool("SSOPS_LOCAL_LOGIN", True)
    SESSION_HOURS = env.get_int("SSOPS_SESSION_HOURS", 8, minimum=1)
    if OIDC_ISSUER and not (OIDC_CLIENT_ID and OIDC_CLIENT_SECRET):
        raise env.EnvError(
            "OIDC_ISSUER is set: set OIDC_CLIENT_ID and OIDC_CLIENT_SECRET (or "
            "OIDC_CLIENT_SECRET_FILE) too"
        )
    if not LOCAL_LOGIN and not OIDC_ISSUER:
        raise env.EnvError("SSOPS_LOCAL_LOGIN=off needs OIDC_ISSUER: nobody could sign in")
    from accounts.group_map import GroupMapError, parse_group_map

    try:
        OIDC_GROUP_MAP = parse_group_map(env.get_str("SSOPS_OIDC_GROUP_MAP"))
    except GroupMapError as exc:
        raise env.EnvError(str(exc)) from None
except env.EnvError as exc:
    raise ImproperlyConfigured(str(exc)) from None
# Sessions end after SSOPS_SESSION_HOURS; signing in again reads the provider's groups again.
SESSION_COOKIE_AGE = SESSION_HOURS * 3600
AUTHENTICATION_BACKENDS = [
    "accounts.backends.LocalPasswordBackend",
    "accounts.backends.OidcBackend",
]

if TRACES_EXPORTER not in {"none", "console", "otlp", "db"}:
    raise ImproperlyConfigured(
        f"OTEL_TRACES_EXPORTER={TRACES_EXPORTER!r} is not one of none, console, otlp, db"
    )
if not DEBUG and len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY is too short: use at least 50 random characters")
if not re.fullmatch(r"[a-z][a-z0-9_]{0,19}", PROVISION_PREFIX):
    raise ImproperlyConfigured(
        f"SSOPS_PROVISION_PREFIX={PROVISION_PREFIX!r} must be lower-case letters, digits and _ "
        "(at most 20, starting with a letter), e.g. ssops_"
    )
if SECRETS_KEY_DERIVED:
    SECRETS_KEYS = [
        base64.urlsafe_b64encode(
            hashlib.sha256(f"ssops-secrets:{SECRET_KEY}".encode()).digest()
        ).decode()
    ]
for _key in SECRETS_KEYS:
    try:
        Fernet(_key)
    except (ValueError, TypeError):
        raise ImproperlyConfigured(
            "SSOPS_SECRETS_KEY holds a value that is not a Fernet key (32 url-safe base64 bytes); "
            "make one with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'"
        ) from None
EXPIRY_WARNING_HOURS = sorted({int(hours) for hours in EXPIRY_WARNING_HOURS}, reverse=True)
TOKEN_WARNING_DAYS = sorted({int(days) for days in TOKEN_WARNING_DAYS}, reverse=True)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    # SSOps's apps, lowest first: each imports only the ones above it in this list.
    "core",
    "teams",
    "audit",
    "accounts",
    "slo",
    "catalog",
    "provisioning",
    "metrics",
    "dashboards",
    "demo",
    "ssops_site",
]

# OpenTelemetry's middleware goes right after the first entry (core.telemetry.setup).
MIDDLEWARE = [
    "core.telemetry.RequestTargetMiddleware",
    "core.middleware.RequestIdMiddleware",
    "core.middleware.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.SecurityHeadersMiddleware",
    "core.middleware.RefuseNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "audit.authz.AuthzAuditMiddleware",
    "accounts.signin.ProviderLogoutMiddleware",
]

ROOT_URLCONF = "ssops_site.urls"
WSGI_APPLICATION = "ssops_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.navigation_links",
            ],
        },
    },
]

DATABASES = {"default": DATABASE.as_django(conn_max_age=DATABASE_CONN_MAX_AGE)}
if DATABASE.engine == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# Security: every deploy check passes with DEBUG off and TLS on.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
if SECURE_SSL:
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31_536_000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first, so an API call without credentials gets 401 with WWW-Authenticate.
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "core.parsers.StrictJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["core.filters.StrictFilterBackend"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "core.negotiation.StrictContentNegotiation",
    "DEFAULT_PAGINATION_CLASS": "core.pagination.StrictLimitOffsetPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_SCHEMA_CLASS": "core.schema.AutoSchema",
    "EXCEPTION_HANDLER": "core.schema.field_errors_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "core.throttles.UserRate",
        "core.throttles.AnonRate",
    ],
}

# The cache holds API rate-limit counters: per process by default; give several web processes
# one Redis (SSOPS_CACHE_URL=redis://127.0.0.1:6379/1) so that they count together.
if CACHE_URL:
    if not CACHE_URL.startswith(("redis://", "rediss://")):
        raise ImproperlyConfigured(f"SSOPS_CACHE_URL={CACHE_URL!r} is not a redis:// URL")
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
SPECTACULAR_SETTINGS = {
    "TITLE": "SSOps API",
    "DESCRIPTION": "Self-service operations: catalog, audit, SLOs and platform metrics.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI served by SSOps itself (no CDN), so the docs work offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several lists have a `state` or `kind` with different choices: name each set.
    "ENUM_NAME_OVERRIDES": {
        "RequestStateEnum": "catalog.choices.RequestState",
        "RunStateEnum": "provisioning.choices.RunState",
        "RunKindEnum": "provisioning.choices.RunKind",
        "StepStateEnum": "provisioning.choices.StepState",
        "ResourceStateEnum": "provisioning.choices.ResourceState",
        "RunbookRunStateEnum": "provisioning.choices.RunbookRunState",
        "OrphanKindEnum": "provisioning.choices.OrphanKind",
        "TokenKindEnum": "accounts.choices.TokenKind",
        "TokenStateEnum": "accounts.choices.TokenState",
    },
}

# Celery: an embedded filesystem broker by default, so a single machine needs no server.
CELERY_QUEUE_DIR = VAR_DIR / "celery"
if not CELERY_BROKER_URL:
    CELERY_BROKER_URL = "filesystem://"
    for sub in ("queue", "processed", "control"):
        (CELERY_QUEUE_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_QUEUE_DIR / "queue"),
        "data_folder_out": str(CELERY_QUEUE_DIR / "queue"),
        "processed_folder": str(CELERY_QUEUE_DIR / "processed"),
        "store_processed": False,
        # kombu's broadcast (pidbox) files; without this they land in the working directory.
        "control_folder": str(CELERY_QUEUE_DIR / "control"),
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "core.jsonlog.JsonFormatter"}},
    "filters": {"secrets": {"()": "core.jsonlog.MaskSecretsFilter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["secrets"]}
    },
    "root": {"handlers": ["console"], "level": env.get_str("SSOPS_LOG_LEVEL", "INFO").upper()},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

EMAIL_BACKEND = env.get_str(
    "DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = env.get_str("DJANGO_DEFAULT_FROM_EMAIL", "ssops@localhost")
