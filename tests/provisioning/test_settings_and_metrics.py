"""The engine's settings refuse bad values by name; runs are counted in
ssops_provision_total{template,outcome} and timed in ssops_provision_duration_seconds."""

from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from tests.helpers import start_up
from tests.provisioning.conftest import grant_step, webhook_step

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SSOPS_SECRETS_KEY", "not-a-key", "SSOPS_SECRETS_KEY holds a value that is not a Fernet"),
        ("SSOPS_PROVISION_POSTGRES_URL", "sqlite:///x", "must be a postgresql:// URL"),
        ("SSOPS_PROVISION_PREFIX", "Bad-", "SSOPS_PROVISION_PREFIX='Bad-' must be"),
        ("SSOPS_KUBECONFIG", "/no/such/file", "SSOPS_KUBECONFIG='/no/such/file' is not a readable"),
        ("SSOPS_WEBHOOK_URLS", "ftp://x", "SSOPS_WEBHOOK_URLS='ftp://x' is not an http(s) URL"),
        ("SSOPS_EXPIRY_WARNING_HOURS", "soon", "SSOPS_EXPIRY_WARNING_HOURS='soon' must list"),
        ("SSOPS_PROVISION_MAX_RETRIES", "-1", "SSOPS_PROVISION_MAX_RETRIES=-1 is below"),
        ("SSOPS_RUNBOOK_REDIS_URL", "kafka://x", "SSOPS_RUNBOOK_REDIS_URL='kafka://x'"),
    ],
)
def test_a_bad_engine_setting_stops_start_up_naming_it(name, value, message):
    result = start_up(**{name: value})
    assert result.returncode != 0 and "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_production_without_a_secrets_key_refuses_to_store_secrets(settings):
    from provisioning import crypto

    settings.SECRETS_KEYS = []
    with pytest.raises(crypto.SecretsUnavailable, match="SSOPS_SECRETS_KEY is not set"):
        crypto.encrypt("x")


def test_keys_can_be_rotated(settings):
    from cryptography.fernet import Fernet

    from provisioning import crypto

    old = Fernet.generate_key().decode()
    settings.SECRETS_KEYS = [old]
    token = crypto.encrypt("secret")
    settings.SECRETS_KEYS = [Fernet.generate_key().decode(), old]
    assert crypto.decrypt(token) == "secret"
    settings.SECRETS_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(crypto.SecretsUnavailable, match="cannot be decrypted"):
        crypto.decrypt(token)


def count(outcome: str) -> float:
    labels = {"template": "engine", "outcome": outcome}
    return REGISTRY.get_sample_value("ssops_provision_total", labels) or 0.0


@pytest.mark.django_db
def test_runs_are_counted_and_timed_by_template_and_outcome(provision, engine_template, receiver):
    engine_template(grant_step(), webhook_step("notify", receiver.script("/m", 200, 400)))
    ready_before, rolled_before = count("ready"), count("rolled_back")
    timed = {"template": "engine", "outcome": "ready"}
    observed = REGISTRY.get_sample_value("ssops_provision_duration_seconds_count", timed) or 0
    provision()
    provision()
    assert count("ready") == ready_before + 1
    assert count("rolled_back") == rolled_before + 1
    after = REGISTRY.get_sample_value("ssops_provision_duration_seconds_count", timed)
    assert after == observed + 1


@pytest.mark.django_db
def test_metrics_are_served(client, provision, engine_template):
    engine_template(grant_step())
    provision()
    text = client.get("/metrics").content.decode()
    assert 'ssops_provision_total{outcome="ready",template="engine"}' in text
    assert "ssops_provision_duration_seconds_bucket" in text
