"""API fuzzing with schemathesis from SSOps's own OpenAPI schema, authenticated as a platform
admin on the demo data: no server errors, every response conforms to the schema, and negative
(schema-violating) data is rejected. A bounded, deterministic number of examples per operation.

Query parameters the schema does not name are not generated: OpenAPI does not forbid them and
the API ignores them, as most APIs do. It runs in the PostgreSQL pass, whose stricter types
(integer ranges, text encodings) find more than SQLite would."""

from __future__ import annotations

import io

import pytest
import schemathesis
from django.core.management import call_command
from django.db import transaction
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
)

from ssops_site.wsgi import application
from tests.factories import api_key

schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
schema.app = application
schema.config.generation.update(allow_extra_parameters=False, deterministic=True)
CHECKS = [not_a_server_error, response_schema_conformance, negative_data_rejection]


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Django closes "obsolete" connections when a request starts and ends; its test Client
    turns that off, and so must this in-process WSGI transport, or the test's own transaction
    would be closed under it (on PostgreSQL)."""
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
def admin_token(demo_token, db):
    return demo_token


@pytest.mark.postgres
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
