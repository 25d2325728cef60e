"""API fuzzing with schemathesis from SSOps's own OpenAPI schema, authenticated as the demo's
platform admin: no request gets a server error, and every response matches the schema.

Two runs, one per pass of `./run test`:

- PostgreSQL pass: the whole API served for real — by gunicorn and by `manage.py runserver`,
  each over a freshly seeded demo — fuzzed the way a user runs schemathesis (its command line):
  the fuzzing phase (schema-valid and schema-violating data) and the stateful phase (chains of
  calls along the links schemathesis infers, so detail operations get real identifiers), with
  the checks `not_a_server_error` and `response_schema_conformance`. It walks the schema the
  server publishes, so an endpoint added later is held to the same test. PostgreSQL's stricter
  types (integer ranges, text encodings) find more than SQLite would.
- SQLite pass: the quicker in-process run of every operation through the WSGI application
  (bounded, deterministic examples), with schema-violating data also checked to be refused.

SSOPS_FUZZ_EXAMPLES and SSOPS_FUZZ_SEED make the server run longer or explore elsewhere, e.g.
`SSOPS_FUZZ_EXAMPLES=100 SSOPS_FUZZ_SEED=7 DATABASE_URL=… pytest tests/core/test_api_fuzz.py`.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
)

from slo.models import SLO
from ssops_site.wsgi import application
from tests.factories import api_key
from tests.services.web_server import KINDS, WebServer

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
EXAMPLES = int(os.environ.get("SSOPS_FUZZ_EXAMPLES", "10"))
SEED = int(os.environ.get("SSOPS_FUZZ_SEED", "16"))
STATEFUL_STEPS = 20


# --- the PostgreSQL pass: real servers ------------------------------------------------------


def fuzz_config(*, token: str, slo_keys: list[str], report_dir: Path) -> str:
    """schemathesis.toml for one run. SLOs are named by `{key}` (a UUID or a name), which
    schemathesis cannot relate to a list's fields, so half of the keys it sends are real."""
    return "\n".join(
        [
            f"seed = {SEED}",
            # One worker: schemathesis's threads race in CPython 3.11's ast module
            # ("AST constructor recursion depth mismatch", fixed in later Pythons).
            "workers = 1",
            "color = false",
            'suppress-health-check = ["all"]',
            # Each run starts afresh: no failures replayed from an earlier run's cache.
            f"cache = {{ directory = {json.dumps(str(report_dir / 'cache'))} }}",
            f'headers = {{ Authorization = "Token {token}" }}',
            "[generation]",
            f"max-examples = {EXAMPLES}",
            "[checks]",
            "enabled = false",
            "not_a_server_error.enabled = true",
            "response_schema_conformance.enabled = true",
            "[phases]",
            "examples.enabled = false",
            "coverage.enabled = false",
            "fuzzing.enabled = true",
            "stateful.enabled = true",
            f"stateful.max-steps = {STATEFUL_STEPS}",
            "[dictionaries.slo-keys]",
            f"values = {json.dumps(slo_keys)}",
            "[[operations]]",
            'include-path-regex = "^/api/slos/[{]key[}]/"',
            'parameters = { "path.key" = { dictionary = "slo-keys", probability = 0.5 } }',
            "[reports]",
            f"directory = {json.dumps(str(report_dir))}",
            "json.enabled = true",
            "ndjson.enabled = true",
        ]
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", KINDS)
def test_no_request_gets_a_server_error_or_an_answer_off_the_schema(kind, tmp_path):
    call_command("seed_demo", stdout=io.StringIO())
    admin = get_user_model().objects.get(username="admin")
    token = api_key(admin)
    slo_keys = [key for slo in SLO.objects.all() for key in (slo.name, str(slo.uuid))]
    config = tmp_path / "schemathesis.toml"
    config.write_text(fuzz_config(token=token, slo_keys=slo_keys, report_dir=tmp_path))

    with WebServer(kind, tmp_path).running() as server:
        run = subprocess.run(
            [str(SCHEMATHESIS), "--config-file", str(config), "run", f"{server.url}/api/schema/"],
            capture_output=True,
            text=True,
            timeout=1800,
        )
    output = f"schemathesis against {kind}:\n{run.stdout[-30000:]}{run.stderr[-5000:]}"
    report = json.loads(next(tmp_path.glob("json-*.json")).read_text())
    assert run.returncode == 0 and not report["failures"], output
    assert report["operations"]["tested"] == report["operations"]["total"], output
    assert report["phases"]["fuzzing"]["status"] == "success", output
    assert report["phases"]["stateful"]["status"] == "success", output


# --- the SQLite pass: in-process ------------------------------------------------------------

schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
schema.app = application
schema.config.generation.update(allow_extra_parameters=False, deterministic=True)
CHECKS = [not_a_server_error, response_schema_conformance, negative_data_rejection]


@pytest.fixture
def _keep_the_test_connection():
    """Django closes "obsolete" connections when a request starts and ends; its test Client
    turns that off, and so must this in-process WSGI transport, or the test's own transaction
    would be closed under it."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture(scope="module")
def demo_token(django_db_setup, django_db_blocker):
    """The demo, seeded once for the module inside a transaction that is rolled back at its
    end; each example runs in a savepoint within it (as Django's TestCase.setUpTestData does),
    so an example's writes do not reach the next one."""
    from django.contrib.auth import get_user_model

    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            call_command("seed_demo", stdout=io.StringIO())
            admin = get_user_model().objects.get(username="admin")
            yield api_key(admin)
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def admin_token(demo_admin, db, _keep_the_test_connection):
    return api_key(demo_admin)


@pytest.mark.once
@schema.parametrize()
@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)
def test_the_api_holds_to_its_schema(case, admin_token):
    case.call_and_validate(headers={"Authorization": f"Token {admin_token}"}, checks=CHECKS)
