"""SLO pages: permission-scoped, from stored evaluations, with empty and error states that say
what to do, and Plotly served by SSOps itself."""

from datetime import UTC, datetime, timedelta

import pytest

from slo.models import SLO, AlertEvent, AlertState, Snapshot

pytestmark = pytest.mark.django_db
AT = datetime(2026, 1, 1, tzinfo=UTC)


def snapshot(slo, at, **figures):
    defaults = {
        "data_status": "ok",
        "sli": 0.9995,
        "error_budget_remaining": 0.5,
        "burn_rates": {"5m": 0.5, "30m": 0.5, "1h": 20.0, "2h": 1, "6h": 7.5, "1d": 1, "3d": 1},
    }
    return Snapshot.objects.create(slo=slo, at=at, **{**defaults, **figures})


@pytest.fixture
def measured(workload_slos):
    slo = SLO.objects.get(name="checkout-availability")
    for hours in range(5):
        snapshot(slo, AT - timedelta(hours=hours))
    SLO.objects.filter(pk=slo.pk).update(data_status="ok", evaluated_at=AT, data_status_since=AT)
    AlertState.objects.create(slo=slo, severity="page", firing=True, since=AT, windows=["1h/5m"])
    AlertEvent.objects.create(slo=slo, severity="page", kind="fired", at=AT, windows=["1h/5m"])
    return slo


def test_the_list_shows_budget_burn_and_firing_alerts(client, bob, measured):
    client.force_login(bob)
    page = client.get("/slos/").content.decode()
    assert "checkout-availability" in page and "search-availability" not in page
    assert "50.0 %" in page and "20.00×" in page and ">page<" in page


def test_the_list_reads_a_constant_number_of_queries(
    client, bob, measured, django_assert_max_num_queries
):
    client.force_login(bob)
    with django_assert_max_num_queries(12):
        client.get("/slos/")


def test_the_list_says_how_to_add_slos_when_there_are_none(client, bob):
    client.force_login(bob)
    page = client.get("/slos/").content.decode()
    assert "python manage.py slo_import" in page and "POST /api/slos/" in page


def test_a_filter_that_matches_nothing_says_so(client, bob, measured):
    client.force_login(bob)
    assert (
        "No SLO matches these filters" in client.get("/slos/?q=nothing-like-this").content.decode()
    )


def test_the_detail_draws_its_charts_with_plotly_served_by_ssops(client, bob, measured):
    client.force_login(bob)
    page = client.get("/slos/checkout-availability/").content.decode()
    assert 'data-chart="chart-sli"' in page and 'id="chart-budget"' in page
    assert 'src="/slos/assets/plotly.min.js"' in page
    assert "cdn" not in page.lower()
    assert "page 1h/5m &gt; 14.4000" in page  # the burn table, with its thresholds
    assert "fired" in page  # alert history


def test_the_detail_is_found_by_uuid_too_and_hidden_from_outsiders(client, bob, charlie, measured):
    client.force_login(bob)
    assert client.get(f"/slos/{measured.uuid}/").status_code == 200
    client.force_login(charlie)
    assert client.get("/slos/checkout-availability/").status_code == 404


def test_an_unreachable_prometheus_is_said_with_the_time_it_started(client, bob, measured):
    SLO.objects.filter(pk=measured.pk).update(
        data_status="unavailable",
        data_status_since=datetime(2026, 1, 1, 10, 42, tzinfo=UTC),
        data_status_detail="Prometheus at http://prom:9090 is unreachable: refused",
    )
    client.force_login(bob)
    page = client.get("/slos/checkout-availability/").content.decode()
    assert "Prometheus is unreachable since 2026-01-01 10:42 UTC" in page


def test_no_data_is_explained_not_shown_as_good(client, bob, workload_slos):
    slo = SLO.objects.get(name="ghost-availability")
    snapshot(slo, AT, data_status="no_data", sli=None, error_budget_remaining=None, burn_rates={})
    SLO.objects.filter(pk=slo.pk).update(
        data_status="no_data", evaluated_at=AT, data_status_since=AT
    )
    client.force_login(bob)
    page = client.get("/slos/ghost-availability/").content.decode()
    assert "No data since 2026-01-01 00:00 UTC" in page and "ghost_requests_total" in page
    assert "100.000 %" not in page


def test_a_never_evaluated_slo_says_how_to_get_figures(client, bob, workload_slos):
    client.force_login(bob)
    page = client.get("/slos/checkout-availability/").content.decode()
    assert "Not evaluated yet" in page and "slo_evaluate --slo checkout-availability" in page
    assert "No history yet" in page


def test_plotly_is_served_compressed_and_cached(client, bob):
    client.force_login(bob)
    response = client.get("/slos/assets/plotly.min.js", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200 and response["Content-Encoding"] == "gzip"
    assert response["Content-Type"] == "text/javascript"
    again = client.get("/slos/assets/plotly.min.js", headers={"If-None-Match": response["ETag"]})
    assert again.status_code == 304
    plain = client.get("/slos/assets/plotly.min.js")
    assert b"plotly.js" in plain.content[:2000]
