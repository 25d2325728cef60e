"""Incidents on the dashboards: the open ones on the on-call page beside the firing alerts
(severity, owner, linked SLOs and requests), MTTA and MTTR per week on the executive page."""

import csv
import io
from datetime import UTC, timedelta

import pytest
from django.utils import timezone

from metrics.models import Incident
from metrics.services import incident_acknowledge, incident_open, incident_resolve
from tests.dashboards import data

pytestmark = pytest.mark.django_db


def table(client, url: str, name: str) -> list[dict]:
    response = client.get(f"{url}?format=csv&table={name}")
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_the_oncall_page_lists_open_incidents_beside_the_firing_alerts(
    client, oncall, team, bob, other_team
):
    slo = data.add_slos(team, 1)[0]
    item = data.add_requests(team, bob, 1)[0]
    incident_open(actor=oncall, title="search slow", severity="sev3", team=other_team)
    major = incident_open(
        actor=oncall, title="checkout down", severity="sev1", slos=[slo], requests=[item]
    )
    incident_acknowledge(actor=oncall, incident=major)
    done = incident_open(actor=oncall, title="over", severity="sev1")
    incident_resolve(actor=oncall, incident=done)
    client.force_login(oncall)
    page = client.get("/dashboards/oncall/").content.decode()
    assert page.index("Open incidents</h2>") < page.index("SSOps API: latency")
    assert f'href="/incidents/{major.uuid}/"' in page
    rows = table(client, "/dashboards/oncall/", "open-incidents")
    assert [(r["severity"], r["incident"], r["owner"]) for r in rows] == [
        ("sev1", "checkout down", oncall.username),
        ("sev3", "search slow", ""),
    ]
    assert rows[0]["SLOs"] == slo.name and rows[0]["requests"] == str(item.uuid)[:8]
    assert ">2</strong><span>open incidents" in page


def test_a_developer_sees_their_teams_open_incidents_only(client, oncall, bob, team, other_team):
    incident_open(actor=oncall, title="payments slow", team=team)
    incident_open(actor=oncall, title="search slow", team=other_team)
    client.force_login(bob)
    rows = table(client, "/dashboards/oncall/", "open-incidents")
    assert [r["incident"] for r in rows] == ["payments slow"]


def test_the_executive_page_gives_mtta_and_mttr_per_week(client, executive, oncall):
    # The Friday noon of last week: every time below falls in that week, whatever today is.
    today = timezone.now().astimezone(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    monday = today - timedelta(days=today.weekday())
    began = monday - timedelta(days=3)
    incident = incident_open(actor=oncall, title="down", started_at=began)
    incident_acknowledge(actor=oncall, incident=incident)
    incident_resolve(actor=oncall, incident=incident)
    # Hand-timed: opened 30 min into the impact, taken 15 min later, resolved after 2 h.
    Incident.objects.filter(pk=incident.pk).update(
        opened_at=began + timedelta(minutes=30),
        acknowledged_at=began + timedelta(minutes=45),
        resolved_at=began + timedelta(hours=2),
    )
    client.force_login(executive)
    rows = table(client, "/dashboards/executive/", "incidents")
    (this_week,) = [r for r in rows if r["week"] == (monday - timedelta(days=7)).date().isoformat()]
    assert (this_week["opened"], this_week["acknowledged"], this_week["resolved"]) == (
        "1",
        "1",
        "1",
    )
    assert float(this_week["MTTA"]) == 15 * 60 and float(this_week["MTTR"]) == 2 * 3600
    page = client.get("/dashboards/executive/").content.decode()
    assert "MTTA 15 m, MTTR 2 h" in page
