"""Team budgets: the cost burn rate (spend so far ÷ what the budget allows so far) alerts when
spend runs at more than twice the budgeted pace."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.management import call_command

from audit.models import AuditEvent
from catalog.models import Budget
from metrics import tasks
from metrics.models import BudgetAlert
from metrics.services import budget_burn_evaluate
from tests.metrics.focus_files import charge, focus_csv

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 1, 12, 9, tzinfo=UTC)  # billing data reaches 11 January 00:00


@pytest.fixture
def billed(tmp_path):
    def load(per_day: str, owner: str = "payments", days=range(1, 11)):
        path = tmp_path / f"{owner}-{per_day}.csv"
        rows = [charge(day, per_day, resource="vm-1", tags={"owner": owner}) for day in days]
        path.write_text(focus_csv(rows))
        call_command("billing_import", str(path))

    return load


@pytest.fixture
def budgets(team, other_team):
    # January has 31 days: 310 EUR a month allows 10 EUR a day.
    Budget.objects.create(team=team, monthly_limit=Decimal("310"), currency="EUR")
    Budget.objects.create(team=other_team, monthly_limit=Decimal("310"), currency="USD")


def events(kind: str) -> int:
    return AuditEvent.objects.filter(action=f"budget.burn_alert.{kind}").count()


def test_spending_faster_than_twice_the_budgeted_pace_fires_once(budgets, billed, team):
    billed("25")  # 250 EUR in 10 days, against 100 EUR budgeted so far: 2.5×
    (alert, other) = sorted(budget_burn_evaluate(now=NOW), key=lambda a: a.team.slug)
    assert alert.team == team and alert.firing and alert.since == NOW
    assert alert.spend == Decimal("250") and alert.budgeted_so_far == Decimal("100")
    assert alert.burn_rate == pytest.approx(2.5)
    assert alert.covered_until == datetime(2026, 1, 11, tzinfo=UTC)
    assert not other.firing and other.spend == 0  # a USD budget: EUR rows are not added to it
    budget_burn_evaluate(now=NOW)
    assert events("fired") == 1  # still firing: no second event
    event = AuditEvent.objects.get(action="budget.burn_alert.fired")
    assert (
        event.payload["burn_rate"] == pytest.approx(2.5) and event.payload["month"] == "2026-01-01"
    )


def test_the_alert_resolves_when_the_pace_falls_back(budgets, billed):
    billed("25")
    budget_burn_evaluate(now=NOW)
    billed("15")  # the same period re-imported: 150 EUR, 1.5×
    (alert,) = [a for a in budget_burn_evaluate(now=NOW) if a.currency == "EUR"]
    assert not alert.firing and alert.resolved_at == NOW and alert.burn_rate == pytest.approx(1.5)
    assert (events("fired"), events("resolved")) == (1, 1)
    assert BudgetAlert.objects.count() == 2  # one row per team and month


def test_at_exactly_twice_the_pace_nothing_fires(budgets, billed):
    billed("20")
    assert not any(a.firing for a in budget_burn_evaluate(now=NOW))


def test_without_billing_data_there_is_no_burn_rate(budgets):
    alerts = budget_burn_evaluate(now=NOW)
    assert {a.burn_rate for a in alerts} == {None} and not any(a.firing for a in alerts)


def test_a_firing_alert_reaches_alertmanager(budgets, billed, settings, alertmanager):
    settings.ALERTMANAGER_URL = alertmanager.url
    billed("25")
    budget_burn_evaluate(now=NOW)
    (sent,) = alertmanager.active_alerts(alertname="TeamBudgetBurn", team="payments")
    assert sent["labels"]["severity"] == "ticket" and sent["labels"]["month"] == "2026-01"
    assert "2.50x" in sent["annotations"]["description"]


def test_the_hourly_task_reports_each_teams_burn(budgets, billed, team):
    billed("25")
    assert set(tasks.budget_burn()) == {"payments", "search"}
