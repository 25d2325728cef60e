"""SSOps's own record of its API requests: counted in memory, written at most once a minute per
process with an upsert, compacted into hours after 35 days."""

from datetime import UTC, datetime, timedelta

import pytest

from core import request_counts
from core.models import ApiRequestCount

pytestmark = pytest.mark.django_db

MINUTE = 1_767_744_000  # 2026-01-07T00:00:00Z


@pytest.fixture(autouse=True)
def _fresh():
    request_counts.reset()
    yield
    request_counts.reset()


def stored() -> dict:
    return {(r.minute, r.view, r.status): r.count for r in ApiRequestCount.objects.all()}


def test_requests_are_written_once_their_minute_is_over():
    for second in (1, 2, 30):
        request_counts.count("api:request-list", "GET", "200", now=MINUTE + second)
    request_counts.count("api:request-list", "GET", "500", now=MINUTE + 59)
    assert stored() == {}  # still in memory: one write a minute, not one per request
    request_counts.count("api:request-list", "GET", "200", now=MINUTE + 61)
    assert stored() == {
        (MINUTE, "api:request-list", "200"): 3,
        (MINUTE, "api:request-list", "500"): 1,
    }


def test_two_processes_writing_the_same_minute_add_up():
    request_counts.count("api:me", "GET", "200", now=MINUTE + 1)
    request_counts.flush()
    request_counts.count("api:me", "GET", "200", now=MINUTE + 2)  # "another process"
    request_counts.count("api:me", "GET", "200", now=MINUTE + 3)
    request_counts.flush()
    assert stored() == {(MINUTE, "api:me", "200"): 3}


def test_the_middleware_counts_api_views_only(client, alice):
    client.force_login(alice)
    client.get("/api/me/")
    client.get("/audit/")
    client.get("/api/me/")
    request_counts.flush()
    rows = list(ApiRequestCount.objects.values_list("view", "method", "status", "count"))
    assert rows == [("api:me", "GET", "200", 2)]


def test_durations_are_counted_per_bucket_and_fold_into_hours_with_the_counts():
    """Hand-worked: 0.05 s, 0.3 s and 0.7 s within a minute, and one untimed request."""
    for seconds in (0.05, 0.3, 0.7):
        request_counts.count("api:me", "GET", "200", seconds=seconds, now=MINUTE + 1)
    request_counts.count("api:me", "GET", "200", now=MINUTE + 2)
    request_counts.flush()
    row = ApiRequestCount.objects.get()
    assert (row.count, row.timed) == (4, 3)
    assert (row.within_100ms, row.within_250ms, row.within_500ms, row.within_1s) == (1, 1, 2, 3)
    histogram = {
        labels["le"]: n for labels, n in request_counts.latency_totals(MINUTE, MINUTE + 60)
    }
    assert histogram == {"0.1": 1, "0.25": 1, "0.5": 2, "1.0": 3, "2.5": 3, "+Inf": 3}
    now = datetime.fromtimestamp(MINUTE + 40 * 86400, UTC)
    assert request_counts.request_counts_compact(now=now) == 1
    folded = ApiRequestCount.objects.get()
    assert (folded.span, folded.count, folded.timed, folded.within_500ms) == (3600, 4, 3, 2)


def test_the_middleware_times_api_requests(client, alice):
    client.force_login(alice)
    client.get("/api/me/")
    request_counts.flush()
    row = ApiRequestCount.objects.get()
    assert (row.count, row.timed) == (1, 1)


def test_totals_count_each_row_at_the_end_of_its_minute():
    request_counts.count("api:me", "GET", "200", now=MINUTE + 10)
    request_counts.count("api:me", "GET", "503", now=MINUTE + 70)
    request_counts.flush()
    assert request_counts.totals(MINUTE, MINUTE + 60) == [
        ({"view": "api:me", "method": "GET", "status": "200"}, 1)
    ]
    assert sorted(n for _, n in request_counts.totals(MINUTE - 60, MINUTE + 120)) == [1, 1]
    assert request_counts.totals(MINUTE + 60, MINUTE + 119) == []


def test_old_minutes_are_folded_into_hours_without_changing_any_period_total():
    old = MINUTE - 40 * 86400
    for minute in range(0, 180, 1):
        request_counts.count("api:me", "GET", "200", now=old + minute * 60)
    request_counts.flush()
    day_before = sum(n for _, n in request_counts.totals(old - 1, old + 86400))
    now = datetime.fromtimestamp(MINUTE, UTC)
    assert request_counts.request_counts_compact(now=now) == 180
    assert ApiRequestCount.objects.count() == 3 and set(
        ApiRequestCount.objects.values_list("span", "count")
    ) == {(3600, 60)}
    assert sum(n for _, n in request_counts.totals(old - 1, old + 86400)) == day_before == 180
    assert request_counts.request_counts_compact(now=now + timedelta(hours=1)) == 0


def test_counts_made_against_a_database_gone_since_are_dropped(monkeypatch):
    """At exit, a test run's counts must not land in the real database."""
    from django.db import connection

    request_counts.count("api:me", "GET", "200", now=MINUTE + 1)
    monkeypatch.setitem(connection.settings_dict, "NAME", "another-database")
    assert request_counts.flush() == 0
    monkeypatch.undo()
    assert request_counts.flush() == 0 and stored() == {}  # dropped, not kept for later
