"""The executive dashboard: SLO health, M1–M12, provisioning volume, cost burn, policy denies and
outstanding approvals, scoped to the caller, with CSV exports and a constant query count."""

import csv
import io

import pytest

from slo.models import SLO
from tests.dashboards import data

pytestmark = pytest.mark.django_db
URL = "/dashboards/executive/"


def test_it_needs_a_login(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_it_shows_every_slo_worst_first_with_its_state_in_words(client, executive, stored):
    client.force_login(executive)
    page = client.get(URL).content.decode()
    assert "2 of 3" in page and "SLOs healthy" in page
    at_risk = page.index("At risk (under 25 % left)</span></td>")
    assert at_risk < page.index("Healthy</span></td>")  # worst first
    assert 'id="chart-slo-states"' in page and 'id="chart-slo-budgets"' in page


def test_executives_see_the_totals_and_developers_their_teams(client, executive, bob, stored):
    client.force_login(executive)
    page = client.get(URL).content.decode()
    assert "payments-slo-" in page and "search-slo-" in page
    assert "for all teams" in page
    client.force_login(bob)
    page = client.get(URL).content.decode()
    assert "payments-slo-" in page and "search-slo-" not in page
    assert "for your teams" in page
    assert ">search<" not in page  # no row of the other team's costs, approvals or SLOs


def test_m1_to_m12_tiles_show_value_target_and_a_sparkline(client, executive, stored):
    client.force_login(executive)
    page = client.get(URL).content.decode()
    for n in range(1, 13):
        assert f'id="chart-metric-m{n}"' in page
    assert "99.95 %" in page and "≥ 99.9 %" in page and '<span class="badge ok">met</span>' in page


def test_the_time_range_is_7_30_or_90_days(client, executive, stored):
    data.add_metric_days(None, 40)
    client.force_login(executive)
    for days, stored_days in ((7, 7), (30, 30), (90, 40)):
        rows = _csv(client.get(f"{URL}?days={days}&format=csv&table=provisioning-volume"))
        assert len(rows) == stored_days + 1
        page = client.get(f"{URL}?days={days}").content.decode()
        assert f'value="{days}" selected' in page and f"in {days} days" in page
    # Anything else falls back to 30 days.
    assert len(_csv(client.get(f"{URL}?days=5&format=csv&table=provisioning-volume"))) == 31


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


@pytest.mark.parametrize(
    "table",
    [
        "slo-health",
        "platform-metrics",
        "provisioning-volume",
        "policy-denies",
        "cost-burn",
        "approvals",
    ],
)
def test_every_table_exports_as_csv_with_raw_values(client, executive, stored, table):
    client.force_login(executive)
    page = client.get(URL).content.decode()
    assert f"format=csv&amp;table={table}" in page
    response = client.get(f"{URL}?days=30&format=csv&table={table}")
    rows = _csv(response)
    assert len(rows) > 1
    assert f"executive-30d-{table}.csv" in response["Content-Disposition"]


def test_csv_values_are_raw_and_unknown_tables_are_refused(client, executive, stored):
    client.force_login(executive)
    rows = _csv(client.get(f"{URL}?format=csv&table=cost-burn"))
    assert rows[0][:5] == ["team", "currency", "budget", "reserved by requests", "billed (FOCUS)"]
    assert rows[1][:5] == ["payments", "EUR", "1000.00", "250.00", "600.0000000000"]
    assert client.get(f"{URL}?format=csv&table=nope").status_code == 404


def test_provisions_and_denies_per_day_are_read_from_the_stored_metrics(
    client, executive, bob, stored
):
    client.force_login(executive)
    volume = _csv(client.get(f"{URL}?days=7&format=csv&table=provisioning-volume"))
    assert volume[0] == ["day", "made ready", "total"]
    assert [row[1] for row in volume[1:]] == ["3"] * 7  # M2's count of each day
    denies = _csv(client.get(f"{URL}?days=7&format=csv&table=policy-denies"))
    assert denies[0] == ["day", "denied", "allowed", "total"]
    assert denies[1][1:] == ["3", "7", "10"]  # M5's counts: requests decided, denied
    assert (
        "21</strong><span>requests provisioned in 7 days"
        in client.get(f"{URL}?days=7").content.decode()
    )
    client.force_login(bob)  # payments' own figures (the same counts in the test data)
    assert _csv(client.get(f"{URL}?days=7&format=csv&table=policy-denies"))[1][1] == "3"


def test_outstanding_approvals_name_the_oldest_waiting_requests(client, executive, stored):
    client.force_login(executive)
    page = client.get(URL).content.decode()
    assert "requests waiting for approval" in page
    rows = _csv(client.get(f"{URL}?format=csv&table=approvals"))
    assert {row[2] for row in rows[1:]} == {"payments", "search"}


def test_an_unreachable_prometheus_is_said_with_its_time_and_what_to_do(client, executive, stored):
    data.make_unreachable(SLO.objects.filter(team__slug="payments").all())
    client.force_login(executive)
    page = client.get(URL).content.decode()
    assert "Prometheus is unreachable since 2026-01-01 10:42 UTC" in page
    assert "Affects 2 SLOs" in page
    assert "Source unavailable</span></td>" in page


def test_empty_states_say_what_to_do(client, bob):
    client.force_login(bob)
    page = client.get(URL).content.decode()
    assert "python manage.py slo_import" in page
    assert "python manage.py platform_metrics" in page
    assert "Not computed for these days yet" in page
    assert "billing_import" in page
    assert "Nothing waits for an approver." in page


def test_its_query_count_is_constant_as_the_data_grows(
    client, executive, team, bob, stored, queries_of, django_assert_num_queries
):
    client.force_login(executive)
    small = queries_of(URL)
    data.add_requests(team, bob, 60)
    data.add_slos(team, 20, snapshots=3)
    data.add_metric_days(team, 30)
    with django_assert_num_queries(small):
        client.get(f"{URL}?days=90")
    assert small <= 20
