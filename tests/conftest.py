"""Fixtures shared by the whole suite: alice (team admin), bob (member), charlie (outsider),
and the platform roles; plus database housekeeping for the append-only audit tables."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import TransactionTestCase
from rest_framework.test import APIClient

from audit import triggers
from teams.choices import PlatformGroup, TeamRole
from tests.factories import MembershipFactory, TeamFactory, UserFactory, user_in_group

# Real services started by the tests themselves (Prometheus, Alertmanager, Chromium, a Celery
# worker), each a session-wide fixture in its own module.
pytest_plugins = [
    "tests.services.prometheus",
    "tests.services.alertmanager",
    "tests.services.browser",
    "tests.services.celery_worker",
    "tests.services.oidc_provider",
]


def pytest_collection_modifyitems(config, items):
    """PostgreSQL-only tests run in the PostgreSQL pass and are deselected on SQLite; tests
    marked `once` (the demo drill, which brings its own SQLite database; the in-process API
    fuzzing, which the PostgreSQL pass does against real servers) run in the SQLite pass only."""
    from django.conf import settings

    on_postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    skip_marker = "once" if on_postgres else "postgres"
    selected, deselected = [], []
    for item in items:
        (deselected if item.get_closest_marker(skip_marker) else selected).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


def _flush_with_audit_triggers_lifted(original):
    """Transactional tests end with a flush (TRUNCATE/DELETE of every table), which the audit
    triggers rightly refuse: lift them for that flush only and put them straight back."""

    def teardown(self):
        with connection.cursor() as cursor:
            triggers.remove(cursor, connection.vendor)
        try:
            original(self)
        finally:
            with connection.cursor() as cursor:
                triggers.install(cursor, connection.vendor)

    return teardown


TransactionTestCase._fixture_teardown = _flush_with_audit_triggers_lifted(
    TransactionTestCase._fixture_teardown
)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Every test starts from the same empty database, whichever tests ran before it: the rows a
    data migration installs (SSOps's own SLOs, their team and audit events) are flushed once
    here, as each transactional test's teardown flushes them. The migration itself is tested
    on fresh databases of its own (tests/metrics/test_fresh_install.py)."""
    from django.core.management import call_command

    with django_db_blocker.unblock():
        _flush_with_audit_triggers_lifted(
            lambda _: call_command("flush", interactive=False, verbosity=0)
        )(None)


@pytest.fixture
def team(db):
    return TeamFactory(slug="payments", name="Payments", cost_center="CC-PAY")


@pytest.fixture
def other_team(db):
    return TeamFactory(slug="search", name="Search", cost_center="CC-SRCH")


@pytest.fixture
def alice(team):
    """Team admin of payments."""
    return MembershipFactory(
        team=team, user=UserFactory(username="alice"), role=TeamRole.ADMIN
    ).user


@pytest.fixture
def bob(team):
    """Member of payments."""
    return MembershipFactory(team=team, user=UserFactory(username="bob"), role=TeamRole.MEMBER).user


@pytest.fixture
def carol(team):
    """Approver in payments."""
    return MembershipFactory(
        team=team, user=UserFactory(username="carol"), role=TeamRole.APPROVER
    ).user


@pytest.fixture
def charlie(other_team):
    """Outsider: member of another team only."""
    return MembershipFactory(team=other_team, user=UserFactory(username="charlie")).user


@pytest.fixture
def platform_admin(db):
    return user_in_group("padmin", PlatformGroup.ADMIN)


@pytest.fixture
def oncall(db):
    return user_in_group("pager", PlatformGroup.ONCALL)


@pytest.fixture
def executive(db):
    return user_in_group("boss", PlatformGroup.EXECUTIVE)


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def api_as(api):
    def login(user):
        api.force_authenticate(user=user)
        return api

    return login
