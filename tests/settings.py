"""Settings for the test suite: the real settings module, with test-friendly environment defaults.

The environment still wins, so the same suite runs on SQLite (default) and on PostgreSQL
(DATABASE_URL) and against the services the test command starts.
"""

import os
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("DJANGO_SECURE_SSL", "0")
os.environ.setdefault("SSOPS_CELERY_EAGER", "1")
os.environ.setdefault("SSOPS_VAR_DIR", str(_ROOT / "var" / "test"))
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
# The suite makes thousands of API calls as a handful of users; the rate-limit test sets its own.
os.environ.setdefault("SSOPS_API_RATE_USER", "off")
os.environ.setdefault("SSOPS_API_RATE_ANON", "off")

from ssops_site.settings import *  # noqa: E402,F403
from ssops_site.settings import DATABASES  # noqa: E402

# Fast hashing: the suite creates many users; production keeps Django's default hashers.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Several test runs may share one PostgreSQL server (the suite, helpers, benchmarks).
DATABASES["default"].setdefault("TEST", {})
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"]["TEST"]["NAME"] = "test_ssops_" + os.environ.get(
        "SSOPS_TEST_DB_SUFFIX", "main"
    )
