"""The metric pages and API: each metric with its definition, value per period, target, history
and rows; CSV export of each list; developers see their teams, executives the totals."""

import csv
import io

import pytest

from metrics.periods import period_containing
from metrics.services import metric_snapshots_record
from tests.metrics.conftest import AFTER, DAY
from tests.metrics.focus_files import charge, focus_csv

pytestmark = pytest.mark.django_db

JAN_7 = "period=day&at=2026-01-07"


@pytest.fixture
def measured(scenario):
    """The scenario's figures stored for 7 and 8 January (and their week and month)."""
    for day in (DAY, AFTER):
        metric_snapshots_record(period=period_containing("day", day), now=AFTER)
    for kind in ("week", "month"):
        metric_snapshots_record(period=period_containing(kind, DAY), now=AFTER)
    return scenario


def rows_of(response) -> list[dict]:
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_the_overview_shows_every_metric_with_definition_value_target_and_history(
    client, executive, measured, django_assert_max_num_queries
):
    client.force_login(executive)
    with django_assert_max_num_queries(10):
        page = client.get("/platform-metrics/?period=day&at=2026-01-08").content.decode()
    for key in [f"M{i}" for i in range(1, 13)]:
        assert f'id="{key}"' in page
    assert "less the time it waited for a human approver" in page  # M2's definition
    assert "p95 &lt; 2 min" in page and "≥ 99.95 %" in page  # targets
    assert '<svg class="spark"' in page  # M2 over 7 and 8 January
    assert "No data" in page  # M6: no runbook run finished that day, so no number
    assert "/api/platform-metrics/M2/rows/?period=day&amp;at=2026-01-08" in page
    jan7 = client.get(f"/platform-metrics/?{JAN_7}").content.decode()
    assert "85.5 s" in jan7  # all teams' p95 that day


def test_a_developer_sees_their_teams_figures_and_the_platform_wide_ones(
    client, bob, charlie, measured
):
    client.force_login(bob)
    page = client.get(f"/platform-metrics/?{JAN_7}").content.decode()
    assert "payments:</span> <strong>87 s" in page and "85.5 s" not in page
    assert "search:" not in page
    assert "source: SSOps&#x27;s own request counts" in page  # M1 is the platform's
    client.force_login(charlie)
    assert (
        "search:</span> <strong>45 s" in client.get(f"/platform-metrics/?{JAN_7}").content.decode()
    )


def test_the_detail_page_breaks_a_metric_down_and_links_its_sources(client, executive, measured):
    client.force_login(executive)
    page = client.get(f"/platform-metrics/M2/?{JAN_7}").content.decode()
    assert "Catalog request timelines" in page  # the source
    assert ">widget<" in page and ">gadget<" in page and ">all teams<" in page
    assert "/audit/?action=request.ready" in page
    history = client.get("/platform-metrics/provisioning-latency/?period=day&at=2026-01-08")
    assert 'data-chart="chart-history"' in history.content.decode()
    assert client.get("/platform-metrics/M99/").status_code == 404


def test_a_bad_period_is_explained(client, executive, measured):
    client.force_login(executive)
    page = client.get("/platform-metrics/?period=week&at=someday").content.decode()
    assert "is not a week: write e.g. 2026-W02" in page


def test_the_api_gives_every_metric_with_its_definition_and_figures(api_as, executive, measured):
    body = api_as(executive).get(f"/api/platform-metrics/?{JAN_7}").json()
    assert [m["key"] for m in body] == [f"M{i}" for i in range(1, 13)]
    m2 = body[1]
    assert m2["target"] == {
        "kind": "threshold",
        "op": "<",
        "threshold": 120.0,
        "direction": None,
        "periods": None,
        "text": "p95 < 2 min",
        "dimension": "",
    }
    assert m2["formula"].startswith("95th percentile") and m2["version"] == 1
    m9 = body[8]
    assert (m9["target"]["kind"], m9["target"]["direction"], m9["target"]["periods"]) == (
        "trend",
        "up",
        4,
    )
    m5 = body[4]
    assert m5["version"] == 2 and "per request" in m5["changed"]
    assert m5["definition_since"] is not None and m5["history_recomputed_at"] is None
    (total,) = m2["figures"]
    assert total["team"] is None and total["value"] == pytest.approx(85.5)
    assert total["period"] == "2026-01-07" and total["complete"] is True
    assert m2["rows_url"].endswith("/api/platform-metrics/M2/rows/?period=day&at=2026-01-07")


def test_csv_export_of_the_metrics_and_of_one_metric(api_as, executive, measured):
    api = api_as(executive)
    overview = rows_of(api.get(f"/api/platform-metrics/?{JAN_7}&format=csv"))
    assert {row["metric"] for row in overview} == {f"M{i}" for i in range(1, 13)}
    detail = rows_of(api.get(f"/api/platform-metrics/M4/?{JAN_7}&format=csv"))
    medium = next(r for r in detail if r["team"] == "" and r["dimension"] == "medium")
    assert float(medium["value"]) == 1800 and medium["title"] == "Approval turnaround"


def test_the_rows_behind_a_figure_are_scoped_and_exported(api_as, executive, bob, measured):
    everything = api_as(executive).get(f"/api/platform-metrics/M2/rows/?{JAN_7}").json()
    assert everything["count"] == 4
    assert sorted(r["latency_seconds"] for r in everything["rows"]) == [30, 45, 60, 90]
    mine = api_as(bob).get(f"/api/platform-metrics/M2/rows/?{JAN_7}&format=csv")
    exported = rows_of(mine)
    assert sorted(float(r["latency_seconds"]) for r in exported) == [30, 60, 90]
    assert {r["team"] for r in exported} == {"payments"}
    assert all(r["link"].startswith("/requests/") for r in exported)


def test_history_of_one_figure(api_as, executive, measured):
    body = api_as(executive).get("/api/platform-metrics/M2/history/?period=day&at=2026-01-08")
    assert [(r["period"], r["value"]) for r in body.json()] == [
        ("2026-01-07", pytest.approx(85.5)),
        ("2026-01-08", 10.0),
    ]
    per_team = api_as(executive).get(
        "/api/platform-metrics/M2/history/?period=day&at=2026-01-08&team=payments&dimension=gadget"
    )
    assert [r["value"] for r in per_team.json()] == [60.0]


def test_stored_snapshots_filter_and_export(api_as, executive, bob, measured):
    api = api_as(executive)
    weekly = api.get("/api/platform-metric-snapshots/?metric=M12&period=week").json()
    assert weekly["count"] == 1 and weekly["results"][0]["period"] == "2026-W02"
    exported = rows_of(api.get("/api/platform-metric-snapshots/?metric=M2&format=csv"))
    assert len(exported) > 10  # every figure, not one page
    mine = api_as(bob).get("/api/platform-metric-snapshots/?metric=M2").json()["results"]
    assert {r["team"] for r in mine} == {"payments"}


def test_reports_for_totals_are_refused_to_developers(api_as, bob, oncall, measured):
    for url in ("/api/billing/imports/", "/api/billing/rows/", "/api/job-runs/"):
        assert api_as(bob).get(url).status_code == 403
    overview = api_as(oncall).get("/api/job-runs/overview/").json()
    assert {"metrics.tasks.platform_metrics", "metrics.tasks.probe_catalog"} <= {
        r["name"] for r in overview
    }


def test_platform_admins_upload_focus_files_through_the_api(api_as, platform_admin, executive):
    good = io.BytesIO(focus_csv([charge(1, "5", tags={"owner": "payments"})]).encode())
    good.name = "jan.csv"
    created = api_as(platform_admin).post("/api/billing/imports/", {"file": good})
    assert created.status_code == 201 and created.json()["row_count"] == 1
    bad = io.BytesIO(focus_csv([charge(1, "five")]).encode())
    bad.name = "bad.csv"
    refused = api_as(platform_admin).post("/api/billing/imports/", {"file": bad})
    assert refused.status_code == 400
    assert "row 1 (line 2), column BilledCost" in refused.json()["file"][0]
    again = io.BytesIO(good.getvalue())
    again.name = "jan.csv"
    assert api_as(executive).post("/api/billing/imports/", {"file": again}).status_code == 403
    rows = rows_of(api_as(executive).get("/api/billing/rows/?format=csv"))
    assert len(rows) == 1 and rows[0]["owner"] == "payments"


def test_oncall_opens_an_incident_and_logs_a_manual_action(api_as, oncall, bob, team):
    api = api_as(oncall)
    opened = api.post(
        "/api/incidents/", {"title": "ledger slow", "team": "payments"}, format="json"
    )
    assert opened.status_code == 201
    uuid = opened.json()["uuid"]
    logged = api.post(
        f"/api/incidents/{uuid}/actions/", {"description": "restarted ledger"}, format="json"
    )
    assert logged.status_code == 201 and logged.json()["by_oncall"] is True
    actions = api.get(f"/api/incidents/{uuid}/actions/").json()["results"]
    assert [a["description"] for a in actions] == ["restarted ledger"]
    assert api.post(f"/api/incidents/{uuid}/resolve/").status_code == 200
    assert api.post(f"/api/incidents/{uuid}/resolve/").status_code == 409
    member = api_as(bob)
    assert [i["title"] for i in member.get("/api/incidents/").json()["results"]] == ["ledger slow"]
    refused = member.post(
        f"/api/incidents/{uuid}/actions/", {"description": "me too"}, format="json"
    )
    assert refused.status_code == 403


def test_the_incident_page_lets_oncall_log_actions(client, oncall, bob, team):
    client.force_login(oncall)
    client.post("/incidents/open/", {"title": "queue stuck", "team": "payments"})
    assert "queue stuck" in client.get("/incidents/").content.decode()
    from metrics.models import Incident

    incident = Incident.objects.get()
    page = client.get(f"/incidents/{incident.uuid}/").content.decode()
    assert "Log action" in page
    client.post(
        f"/incidents/{incident.uuid}/actions/",
        {"description": "drained the queue by hand", "performed_at": "2026-01-07 14:30"},
    )
    assert (
        "drained the queue by hand" in client.get(f"/incidents/{incident.uuid}/").content.decode()
    )
    action = incident.actions.get()
    assert action.performed_at.isoformat() == "2026-01-07T14:30:00+00:00"
    client.force_login(bob)
    member_page = client.get(f"/incidents/{incident.uuid}/").content.decode()
    assert "queue stuck" in member_page and "Log action" not in member_page
