"""Settings come from the environment; a bad value is refused with the variable's name."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core import env
from tests.helpers import start_up

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DJANGO_DEBUG", "maybe", "DJANGO_DEBUG='maybe' is not a boolean"),
        ("DATABASE_URL", "mysql://x/y", "DATABASE_URL='mysql://x/y' has an unsupported scheme"),
        (
            "DATABASE_URL",
            "postgresql://h:port/db",
            "DATABASE_URL='postgresql://h:port/db' has a port that is not a number",
        ),
        ("DATABASE_URL", "postgresql://h:5432/", "names no database"),
        (
            "CELERY_BROKER_URL",
            "kafka://x",
            "CELERY_BROKER_URL='kafka://x' has an unsupported scheme",
        ),
        (
            "PROMETHEUS_URL",
            "localhost:9090",
            "PROMETHEUS_URL='localhost:9090' is not an http(s) URL",
        ),
        ("ALERTMANAGER_URL", "ftp://x", "ALERTMANAGER_URL='ftp://x' is not an http(s) URL"),
        ("DJANGO_ALLOWED_HOSTS", " , ", "DJANGO_ALLOWED_HOSTS is set but lists nothing"),
        ("OTEL_TRACES_EXPORTER", "jaeger", "OTEL_TRACES_EXPORTER='jaeger' is not one of"),
        ("SSOPS_PROMETHEUS_TIMEOUT", "0", "SSOPS_PROMETHEUS_TIMEOUT=0 is below the minimum"),
        (
            "DJANGO_SECRET_KEY_FILE",
            "/nonexistent/secret",
            "DJANGO_SECRET_KEY_FILE='/nonexistent/secret' cannot be read",
        ),
    ],
)
def test_a_bad_value_stops_start_up_naming_the_variable(name, value, message):
    result = start_up(**{name: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr


def test_database_urls_are_parsed():
    pg = env.parse_database_url(
        "DATABASE_URL", "postgresql://u:p%40ss@db.internal:6432/ssops?sslmode=require"
    )
    assert (pg.engine, pg.name, pg.user, pg.password, pg.host, pg.port) == (
        "django.db.backends.postgresql",
        "ssops",
        "u",
        "p@ss",
        "db.internal",
        "6432",
    )
    assert dict(pg.options) == {"sslmode": "require"}
    lite = env.parse_database_url("DATABASE_URL", "sqlite:///var/x.sqlite3")
    assert lite.name == "var/x.sqlite3"
    assert env.parse_database_url("DATABASE_URL", "sqlite:////tmp/abs.db").name == "/tmp/abs.db"


def test_defaults_are_sqlite_under_var_and_an_embedded_broker(settings):
    from ssops_site import settings as site

    default = env.get_database("DATABASE_URL", Path("/x/var/ssops.sqlite3"), environ={})
    assert default.engine == "django.db.backends.sqlite3" and default.name == "/x/var/ssops.sqlite3"
    if not os.environ.get("CELERY_BROKER_URL"):
        assert site.CELERY_BROKER_URL == "filesystem://"


def _deploy_check(**overrides) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SSOPS_"))}
    environ.update(
        DJANGO_SETTINGS_MODULE="ssops_site.settings",
        DJANGO_SECRET_KEY="x7Lq2vR9sT4wY8zB1cD5fG6hJ0kM3nP7qS2uV4xZ9aC8eF-Qw3Er5Ty7Ui9Op1As",
        DJANGO_ALLOWED_HOSTS="ssops.example.com",
        SSOPS_VAR_DIR="/tmp/ssops-deploy-check",
    )
    environ.update(overrides)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_passes_with_debug_off_and_real_secrets():
    result = _deploy_check()
    assert result.returncode == 0, result.stderr


def test_check_deploy_fails_with_debug_on():
    result = _deploy_check(DJANGO_DEBUG="1")
    assert result.returncode != 0 and "DEBUG" in result.stderr


def test_a_secret_can_come_from_a_file_named_by_name_file(tmp_path):
    secret = tmp_path / "key"
    secret.write_text("from-the-file\n")
    environ = {"SSOPS_WEBHOOK_SECRET_FILE": str(secret)}
    assert env.get_str("SSOPS_WEBHOOK_SECRET", environ=environ) == "from-the-file"
    environ["SSOPS_WEBHOOK_SECRET"] = "from-the-environment"  # the variable itself wins
    assert env.get_str("SSOPS_WEBHOOK_SECRET", environ=environ) == "from-the-environment"
    keys = tmp_path / "keys"
    keys.write_text("new-key,old-key")
    assert env.get_list("SSOPS_SECRETS_KEY", [], environ={"SSOPS_SECRETS_KEY_FILE": str(keys)}) == [
        "new-key",
        "old-key",
    ]
    database = tmp_path / "database"
    database.write_text("postgresql://ssops:s3cret@db.internal:5432/ssops")
    parsed = env.get_database(
        "DATABASE_URL", tmp_path, environ={"DATABASE_URL_FILE": str(database)}
    )
    assert parsed.as_django()["PASSWORD"] == "s3cret"


def test_settings_read_the_secret_key_from_its_file(tmp_path):
    key = "k3Lq2vR9sT4wY8zB1cD5fG6hJ0kM3nP7qS2uV4xZ9aC8eF-Qw3Er5Ty7Ui9Op1Zz"
    (tmp_path / "secret_key").write_text(key + "\n")
    result = start_up(
        "from django.conf import settings; print(settings.SECRET_KEY)",
        DJANGO_SECRET_KEY_FILE=str(tmp_path / "secret_key"),
        SSOPS_VAR_DIR=str(tmp_path / "var"),
    )
    assert result.stdout.strip() == key, result.stderr
