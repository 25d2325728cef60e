"""The demo, seeded once per test module for the API contract tests."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction


@pytest.fixture(scope="module")
def demo_admin(django_db_setup, django_db_blocker):
    """The demo's platform admin, on the demo seeded once for the module inside a transaction
    that is rolled back at its end; each test runs in a savepoint within it (as Django's
    TestCase.setUpTestData does), so a test's writes do not reach the next one. Use with the
    `db` fixture."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            call_command("seed_demo", stdout=io.StringIO())
            yield get_user_model().objects.get(username="admin")
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
