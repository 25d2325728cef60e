"""Metric definitions as the guide means them, on the pages: each metric's formula in words,
its target or trend rule met or missed, the rows behind it one click away; a changed definition
says since when it holds, its older figures are never shown beside the new ones, and
`platform_metrics --recompute` computes the stored history again under it."""

import io

import pytest
from django.core.management import call_command

from audit.models import AuditEvent
from catalog.models import PolicyDecision
from catalog.services import policy_save, request_submit
from metrics.models import MetricDefinition, MetricSnapshot
from metrics.periods import period_containing
from metrics.services import metric_snapshots_record
from tests.metrics.conftest import AFTER, DAY, moment

pytestmark = pytest.mark.django_db

JAN_7 = "period=day&at=2026-01-07"
NO_BAD = 'deny contains "bad name" if startswith(input.request.parameters.name, "bad")'


@pytest.fixture
def decided(widget, bob, team):
    """7 January: two enforcing policies both deny one request of four (M5: 25 %, missed)."""
    for slug in ("first", "second"):
        policy_save(
            actor=None,
            slug=f"no-bad-{slug}",
            title=slug,
            source=f"package t.{slug}\n\nimport rego.v1\n\n{NO_BAD}\n",
        )
    for name in ("bad-x", "payments-a", "payments-b", "payments-c"):
        request_submit(actor=bob, template="widget", team=team, parameters={"name": name})
    PolicyDecision.objects.update(created_at=moment(5))
    metric_snapshots_record(period=period_containing("day", DAY), now=AFTER, metrics=["M5"])


def test_the_metric_page_says_its_formula_target_verdict_and_links_the_rows(
    client, executive, decided
):
    client.force_login(executive)
    page = client.get(f"/platform-metrics/M5/?{JAN_7}").content.decode()
    assert "requests denied by at least one enforcing policy ÷ requests the policies" in page
    assert "&lt; 5 % (low single digits)" in page
    assert '<span class="badge bad">missed</span>' in page  # 25 %
    assert "version 2 since" in page and "per request, not per policy decision" in page
    assert f"/platform-metrics/M5/rows/?{JAN_7.replace('&', '&amp;')}" in page

    rows = client.get(f"/platform-metrics/M5/rows/?{JAN_7}").content.decode()
    assert "8 rows" in rows  # two decisions for each of the four requests
    assert rows.count(">True<") == 2  # bad-x's two decisions: its request was denied
    assert "request_denied_by_policy" in rows and ">open<" in rows


def test_the_rows_page_shows_a_developer_only_their_teams_rows(client, charlie, decided):
    client.force_login(charlie)
    rows = client.get(f"/platform-metrics/M5/rows/?{JAN_7}").content.decode()
    assert "No records behind M5" in rows


def test_older_figures_are_hidden_until_the_history_is_recomputed(client, executive, decided):
    # As if 7 January had been computed under M5's first definition (per decision: 2 of 8).
    MetricSnapshot.objects.filter(metric="M5").update(definition=1, value=0.25 / 2)
    client.force_login(executive)
    page = client.get(f"/platform-metrics/M5/?{JAN_7}").content.decode()
    assert "12.50 %" not in page and "Not computed for 2026-01-07 yet" in page
    api = client.get("/api/platform-metric-snapshots/?metric=M5").json()
    assert api["count"] == 0  # never beside the new ones

    out = io.StringIO()
    call_command("platform_metrics", "--recompute", stdout=out)
    assert "M5 recomputed under definition v2: 1 periods (2026-01-07)" in out.getvalue()
    stored = MetricSnapshot.objects.filter(metric="M5")
    assert set(stored.values_list("definition", flat=True)) == {2}
    overall = MetricSnapshot.objects.get(metric="M5", team=None, dimension="")
    assert overall.value == 0.25
    definition = MetricDefinition.objects.get(metric="M5", version=2)
    assert definition.recomputed_at is not None and definition.periods_recomputed == 1
    assert AuditEvent.objects.filter(action="metrics.history_recomputed").count() == 1
    page = client.get(f"/platform-metrics/M5/?{JAN_7}").content.decode()
    assert "25.00 %" in page and "Every stored period was recomputed under it" in page

    again = io.StringIO()
    call_command("platform_metrics", "--recompute", stdout=again)
    assert "every stored figure follows its metric's current definition" in again.getvalue()
