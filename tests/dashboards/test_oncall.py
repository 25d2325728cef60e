"""The on-call dashboard: firing alerts with since, burn rates, budget and time to exhaustion
and their runbook; the API's latency and error rate; the provisioning queue, failures, denies
and beat job health; a fragment for its own refresh; a constant query count."""

import pytest

from core.models import TraceSpan
from slo.models import SLO
from tests.dashboards import data

pytestmark = pytest.mark.django_db
URL = "/dashboards/oncall/"


def test_firing_alerts_say_since_when_how_fast_and_what_to_read(client, oncall, stored):
    client.force_login(oncall)
    page = client.get(URL).content.decode()
    assert "alerts firing" in page
    assert "15.00×" in page and "20.00×" in page  # burn 1h and 5m
    assert "5 h 0 m" in page  # time to exhaustion
    assert 'href="https://runbooks.example.test/checkout">open runbook' in page
    assert 'id="chart-alert-burn"' in page
    assert "/dashboards/slos/payments-slo-" in page  # the SLO's detail page


def test_a_developer_sees_only_their_teams_alerts_and_no_job_health(client, charlie, stored):
    client.force_login(charlie)
    page = client.get(URL).content.decode()
    assert "search-slo-" in page and "payments-slo-" not in page
    assert "Beat job health is shown to on-call" in page
    assert "slo.tasks.evaluate" not in page


def test_on_call_sees_beat_job_health_with_failures(client, oncall, stored):
    client.force_login(oncall)
    page = client.get(URL).content.decode()
    assert "slo.tasks.evaluate" in page and "RetryError: Prometheus down" in page
    rows = client.get(f"{URL}?format=csv&table=beat-jobs").content.decode().splitlines()
    assert rows[0].startswith("job,last run,outcome")
    assert any(row.startswith("metrics.tasks.platform_metrics,") for row in rows)


def test_api_error_rate_and_latency_come_from_stored_records(client, oncall, stored):
    client.force_login(oncall)
    page = client.get(URL).content.decode()
    assert 'id="chart-api-errors"' in page and 'id="chart-api-latency"' in page
    assert "2.44 %" in page  # 1 of 41 requests answered 5xx in the last minute with traffic
    rows = client.get(f"{URL}?format=csv&table=api").content.decode().splitlines()
    assert rows[0] == "from,requests,5xx share,p50 ms,p95 ms" and len(rows) > 1


def test_without_stored_spans_it_says_how_to_record_latency(client, oncall, stored):
    TraceSpan.objects.all().delete()
    client.force_login(oncall)
    page = client.get(URL).content.decode()
    assert "OTEL_TRACES_EXPORTER=db" in page and 'id="chart-api-latency"' not in page


def test_queue_failures_and_denies_link_to_the_debug_page(client, oncall, team, bob, stored):
    data.add_run(data.add_requests(team, bob, 1)[0])
    client.force_login(oncall)
    page = client.get(URL).content.decode()
    assert "requests in the provisioning queue" in page
    assert page.count("/dashboards/debug/") >= 2  # the failed run's request, the denied one
    assert "too big" in page  # the deny reason


def test_it_refreshes_itself_with_a_fragment(client, oncall, stored):
    client.force_login(oncall)
    page = client.get(URL).content.decode()
    assert 'hx-trigger="every 30s"' in page and "catalog/htmx.min.js" in page
    fragment = client.get(URL, headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in fragment and "Firing alerts" in fragment


def test_an_unreachable_prometheus_is_named_with_its_time(client, oncall, stored):
    data.make_unreachable(SLO.objects.all())
    client.force_login(oncall)
    page = client.get(URL).content.decode()
    assert "Prometheus is unreachable since 2026-01-01 10:42 UTC" in page
    assert "no alert fires or resolves until it answers again" in page


def test_nothing_burning_is_said_plainly(client, oncall):
    client.force_login(oncall)
    page = client.get(URL).content.decode()
    assert "Nothing is burning" in page
    assert "No provisioning or runbook run has failed." in page
    assert "No policy has denied a request." in page
    assert "No API request counted in the last three hours" in page
    assert "No beat job has run yet: start a Celery worker with <code>-B</code>" in page


def test_its_query_count_is_constant_as_the_data_grows(
    client, oncall, team, bob, stored, queries_of, django_assert_num_queries
):
    data.add_run(data.add_requests(team, bob, 1)[0])
    client.force_login(oncall)
    small = queries_of(URL)
    data.add_requests(team, bob, 60)
    data.add_slos(team, 20, snapshots=3)
    data.add_operations(40)
    for item in data.add_requests(team, bob, 5):
        data.add_run(item)
    with django_assert_num_queries(small):
        client.get(URL)
    assert small <= 20


def test_failed_runs_name_the_step_that_failed(client, oncall, team, bob, stored):
    item = data.add_requests(team, bob, 1)[0]
    data.add_run(item)
    client.force_login(oncall)
    rows = client.get(f"{URL}?format=csv&table=failed-runs").content.decode().splitlines()
    assert rows[0] == "finished,kind,what,team,state,failed step,error,request"
    assert ",provision,widget,payments,rolled_back,2. DB,role exists," in rows[1]
    assert rows[1].endswith(str(item.uuid))


def test_the_queue_counts_open_runs_and_approved_requests(client, oncall, team, bob, stored):
    item = data.add_requests(team, bob, 1)[0]
    data.add_run(item, state="running")
    client.force_login(oncall)
    rows = client.get(f"{URL}?format=csv&table=provisioning-queue").content.decode().splitlines()
    assert rows == ["what,state,count", "approved requests,waiting,1", "provision runs,running,1"]


def test_an_alert_whose_runbook_is_an_ssops_runbook_offers_to_run_it(
    client, oncall, executive, team, stored
):
    data.add_runbook("flush-cache")
    SLO.objects.filter(team=team).update(
        runbook_url="http://127.0.0.1:8000/runbooks/flush-cache/?pattern=sessions:*"
    )
    client.force_login(oncall)
    page = client.get(URL).content.decode()
    assert 'action="/runbooks/flush-cache/run/"' in page
    assert 'name="param_pattern" value="sessions:*"' in page
    assert 'name="team" value="payments"' in page
    assert "Run Flush cache keys" in page
    client.force_login(executive)  # reads everything, runs nothing
    page = client.get(URL).content.decode()
    assert 'action="/runbooks/flush-cache/run/"' not in page
    assert "(on-call, platform admins and the team's members run it)" in page
