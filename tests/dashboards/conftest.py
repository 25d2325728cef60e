"""Dashboard fixtures: stored results at a small size, and a check that a page's queries do not
grow with the data."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.dashboards import data


@pytest.fixture
def stored(team, other_team, bob, charlie):
    """A little of everything, for payments (bob's team) and search (charlie's)."""
    data.add_requests(team, bob, 6)
    data.add_requests(other_team, charlie, 3)
    data.add_slos(team, 2)
    data.add_slos(other_team, 1)
    data.add_metric_days(None, 10)
    data.add_metric_days(team, 10)
    data.add_costs(team)
    data.add_operations(4)


@pytest.fixture
def queries_of(client):
    """The number of queries one GET of `url` runs (and that it answered 200)."""

    def count(url: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200, response.content[:500]
        return len(captured)

    return count
