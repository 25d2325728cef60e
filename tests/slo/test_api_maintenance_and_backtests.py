"""The API of planned maintenance and backtests: who may plan a window and when, every problem
answered 400 with its field and nothing written, backtests of a saved SLO and of a draft."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from slo.models import SLO, BudgetAdjustment
from tests.slo.test_api import NEW

pytestmark = pytest.mark.django_db

DRAFT = NEW  # an SLO as the API takes it


@pytest.fixture
def saved(api_as, alice):
    response = api_as(alice).post("/api/slos/", DRAFT, format="json")
    assert response.status_code == 201, response.json()
    return SLO.objects.get(name="orders-availability")


def window(**changes) -> dict:
    start = timezone.now() + timedelta(days=1)
    return {
        "name": "orders-upgrade",
        "service": "orders",
        "first_start": start.isoformat(),
        "duration_seconds": 3600,
        **changes,
    }


def test_a_team_admin_plans_a_window_ahead_of_time(api_as, alice, bob, saved):
    made = api_as(alice).post("/api/budget-adjustments/", window(slo="orders-availability"))
    assert made.status_code == 201, made.json()
    assert made.json()["slo"] == "orders-availability" and made.json()["created_by"] == "alice"
    assert AuditEvent.objects.filter(action="slo.adjustment.created").count() == 1
    listed = api_as(bob).get("/api/budget-adjustments/").json()
    assert [item["name"] for item in listed["results"]] == ["orders-upgrade"]
    assert api_as(bob).post("/api/budget-adjustments/", window(name="mine")).status_code == 403


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"rrule": "FREQ=SOMETIMES"}, "rrule"),
        ({"rrule": "FREQ=MINUTELY"}, "rrule"),
        ({"duration_seconds": 30}, "duration_seconds"),
        ({"duration_seconds": 8 * 86400}, "duration_seconds"),
        ({"first_start": "tomorrow"}, "first_start"),
        ({"service": "nope"}, "service"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_bad_window_is_refused_with_its_field(api_as, alice, saved, changes, field):
    response = api_as(alice).post("/api/budget-adjustments/", window(**changes), format="json")
    assert response.status_code == 400 and field in response.json(), response.json()
    assert not BudgetAdjustment.objects.exists()


def test_a_window_that_has_begun_needs_a_platform_admin_and_a_reason(
    api_as, alice, platform_admin, saved
):
    begun = window(first_start=(timezone.now() - timedelta(hours=1)).isoformat())
    assert api_as(alice).post("/api/budget-adjustments/", begun).status_code == 403
    refused = api_as(platform_admin).post("/api/budget-adjustments/", begun)
    assert refused.status_code == 400 and "reason" in refused.json()
    begun["reason"] = "the database failover ran an hour early"
    assert api_as(platform_admin).post("/api/budget-adjustments/", begun).status_code == 201
    removed = api_as(alice).delete("/api/budget-adjustments/orders-upgrade/")
    assert removed.status_code == 403  # begun: platform admins only, with a reason
    assert (
        api_as(platform_admin)
        .delete("/api/budget-adjustments/orders-upgrade/?reason=entered+by+mistake+twice")
        .status_code
        == 204
    )


def test_a_draft_is_backtested_as_saving_would_check_it(api_as, alice, settings):
    settings.PROMETHEUS_URL = None
    bad = api_as(alice).post(
        "/api/slos/backtest/", {**DRAFT, "numerator_query": "sum(rate(x[5m]"}, format="json"
    )
    assert bad.status_code == 400 and "numerator_query" in bad.json()
    done = api_as(alice).post("/api/slos/backtest/?days=7", DRAFT, format="json")
    assert done.status_code == 200
    body = done.json()
    assert body["data_status"] == "unavailable" and "PROMETHEUS_URL" in body["detail"]
    assert body["slo"] == "orders-availability" and not SLO.objects.exists()  # nothing saved


def test_backtest_parameters_are_checked(api_as, alice, saved):
    for query in ("days=0", "days=91", "days=x", "at=yesterday"):
        response = api_as(alice).get(f"/api/slos/orders-availability/backtest/?{query}")
        assert response.status_code == 400, query
