"""ssops_site.rows writes and reads rows as the ORM would (both passes: SQLite and PostgreSQL)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import (
    Budget,
    MonthlySpend,
    PolicyDecision,
    PolicyVersion,
    Request,
    RequestTransition,
    Team,
)
from catalog.services import policy_save
from catalog.services.requests import _team_with_budget
from ssops_site import rows
from tests.catalog.conftest import publish, template_document

pytestmark = pytest.mark.django_db

FIELDS_SET_ON_SAVE = {"id", "uuid", "created_at", "updated_at"}


def a_request(team, user, version, **changes):
    values = {
        "template_version": version,
        "team": team,
        "requester": user,
        "parameters": {"name": "ünïcode-🚀", "size": 3, "nested": {"list": [1, None, True]}},
        "justification": 'it\'s "quoted" — and long',
        "ttl_hours": 24,
        "risk_tier": "medium",
        "required_approvals": 1,
        "approval_due_at": dt.datetime(2026, 11, 27, 12, 30, 15, 123456, tzinfo=dt.UTC),
        "warnings": ["near the budget"],
        **changes,
    }
    return Request(**values)


def stored(request) -> dict:
    row = Request.objects.filter(pk=request.pk).values().get()
    return {name: value for name, value in row.items() if name not in FIELDS_SET_ON_SAVE}


@pytest.fixture
def version(db):
    return publish(template_document("widget"))


def test_an_inserted_row_reads_back_as_the_one_save_writes(team, alice, version):
    by_orm = a_request(team, alice, version)
    by_orm.save(force_insert=True)
    by_rows = a_request(team, alice, version)
    rows.insert([by_rows])
    assert by_rows.pk and by_rows.pk != by_orm.pk and not by_rows._state.adding
    assert stored(by_rows) == stored(by_orm)
    fresh = Request.objects.get(pk=by_rows.pk)
    assert (fresh.uuid, fresh.created_at) == (by_rows.uuid, by_rows.created_at)


def test_several_rows_go_in_one_statement_and_each_gets_its_key(team, alice, version):
    request = a_request(team, alice, version)
    rows.insert([request])
    transitions = [
        RequestTransition(request=request, from_state=a, to_state=b, reason=f"{a}->{b}")
        for a, b in [("", "submitted"), ("submitted", "approved"), ("approved", "provisioning")]
    ]
    with CaptureQueriesContext(connection) as queries:
        rows.insert(transitions)
    assert len(queries) == 1
    by_key = {t.pk: t.reason for t in RequestTransition.objects.filter(request=request)}
    assert by_key == {t.pk: t.reason for t in transitions} and len(by_key) == 3


def test_an_update_writes_the_named_fields_and_refreshes_auto_now(team, alice, version):
    request = a_request(team, alice, version)
    rows.insert([request])
    written = Request.objects.get(pk=request.pk).updated_at
    request.state, request.deny_reasons, request.justification = "denied", ["no"], "changed"
    assert rows.update(request, ["state", "deny_reasons", "updated_at"]) == 1
    fresh = Request.objects.get(pk=request.pk)
    assert (fresh.state, fresh.deny_reasons) == ("denied", ["no"])
    assert fresh.justification != "changed"  # not named, not written
    assert fresh.updated_at > written


def test_columns_load_an_instance_equal_to_the_orms(team):
    Budget.objects.create(team=team, monthly_limit=Decimal("1234.56"), currency="USD")
    spend = MonthlySpend.objects.create(team=team, period=dt.date(2026, 11, 1), amount="9.21")
    columns = rows.columns(MonthlySpend, "m")
    values = rows.fetch_one(f"SELECT {columns.sql} FROM catalog_monthlyspend m", [])
    loaded = columns.instance(values)
    orm = MonthlySpend.objects.get(pk=spend.pk)
    assert [getattr(loaded, f.attname) for f in columns.fields] == [
        getattr(orm, f.attname) for f in columns.fields
    ]
    assert isinstance(loaded.amount, Decimal) and isinstance(loaded.period, dt.date)


def test_a_team_is_read_with_its_budget_in_one_query(team, other_team):
    Budget.objects.create(team=team, monthly_limit=Decimal("500.00"))
    with CaptureQueriesContext(connection) as queries:
        found, without = _team_with_budget("payments"), _team_with_budget("search")
        assert found.budget.monthly_limit == Decimal("500.00") and found.budget.team is found
        with pytest.raises(Budget.DoesNotExist):
            without.budget  # noqa: B018 (the cached "no budget", as select_related leaves it)
    assert len(queries) == 2
    orm = Team.objects.get(slug="payments")
    assert (found.pk, found.uuid, found.name, found.created_at) == (
        orm.pk,
        orm.uuid,
        orm.name,
        orm.created_at,
    )
    assert _team_with_budget("nope") is None


def test_json_lists_of_strings_round_trip_in_decisions(team, alice, version):
    source = "package tests.never\n\nimport rego.v1\n\ndeny contains msg if { false; msg := 1 }\n"
    policy_save(actor=None, slug="never", title="Never", source=source)
    request = a_request(team, alice, version)
    rows.insert([request])
    policy_version = PolicyVersion.objects.select_related("policy").first()
    decision = PolicyDecision(
        request=request,
        policy_version=policy_version,
        mode="enforce",
        outcome="deny",
        enforced=True,
        deny=['name "x" is taken'],
        latency_ms=0.25,
    )
    rows.insert([decision])
    fresh = PolicyDecision.objects.get(pk=decision.pk)
    assert (fresh.deny, fresh.enforced, fresh.latency_ms) == (['name "x" is taken'], True, 0.25)
