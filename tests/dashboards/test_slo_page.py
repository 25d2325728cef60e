"""An SLO's dashboard page: SLI and budget over the window, burn rates per window now and over
time, alert history; scoped like the SLO pages; a constant query count."""

import pytest

from slo.models import SLO, Snapshot
from tests.dashboards import data

pytestmark = pytest.mark.django_db


@pytest.fixture
def slo(team):
    return data.add_slos(team, 1, snapshots=48)[0]


def url(slo) -> str:
    return f"/dashboards/slos/{slo.name}/"


def test_it_charts_sli_budget_and_burn_rates_over_the_window(client, bob, slo):
    client.force_login(bob)
    page = client.get(url(slo)).content.decode()
    for chart in ("sli", "budget", "burn-history"):
        assert f'id="chart-{chart}"' in page
    assert "page 1h/5m &gt; 14.4" in page and "(above: page 1h/5m" in page
    assert "fired" in page  # the alert history
    assert f'href="/slos/{slo.name}/"' in page  # the definition


def test_the_history_exports_as_csv(client, bob, slo):
    client.force_login(bob)
    rows = client.get(url(slo) + "?format=csv&table=history").content.decode().splitlines()
    assert rows[0].startswith("at,SLI,budget left,data status,burn 5m")
    assert len(rows) == 49


def test_it_is_found_by_uuid_and_hidden_from_outsiders(client, bob, charlie, slo):
    client.force_login(bob)
    assert client.get(f"/dashboards/slos/{slo.uuid}/").status_code == 200
    client.force_login(charlie)
    assert client.get(url(slo)).status_code == 404


def test_an_slo_without_history_says_how_to_get_some(client, bob, slo):
    Snapshot.objects.all().delete()
    SLO.objects.filter(pk=slo.pk).update(evaluated_at=None, data_status="")
    client.force_login(bob)
    page = client.get(url(slo)).content.decode()
    assert "No history yet" in page and f"slo_evaluate --slo {slo.name}" in page


def test_its_query_count_is_constant_as_the_history_grows(
    client, bob, team, queries_of, django_assert_num_queries
):
    small_slo = data.add_slos(team, 1, snapshots=3)[0]
    big_slo = data.add_slos(team, 1, snapshots=200)[0]
    client.force_login(bob)
    small = queries_of(url(small_slo))
    with django_assert_num_queries(small):
        client.get(url(big_slo))
