"""Incidents: opened with their severity, when the impact began, the SLOs and requests they
concern; acknowledged (MTTA) and resolved (MTTR); their page lists the template, policy and SLO
changes of the 24 hours before they began, from the audit store, with the rollbacks a platform
admin can run from there."""

import datetime as dt
import json

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from catalog.models import Policy, TemplateVersion
from catalog.services import policy_save, request_submit
from metrics import calculations as calc
from metrics.models import Incident
from metrics.services import PlatformInvalid, incident_acknowledge, incident_open
from slo.models import PlatformAlert
from slo.services import platform_alert_raise
from tests.catalog.conftest import publish, template_document

pytestmark = pytest.mark.django_db

ALLOW = 'deny contains "no" if input.request.parameters.name == "forbidden"'
STRICT = 'deny contains "no" if startswith(input.request.parameters.name, "payments")'


def save_policy(source: str):
    return policy_save(
        actor=None,
        slug="guard",
        title="Guard",
        source=f"package t.guard\n\nimport rego.v1\n\n{source}\n",
    )[0]


def test_oncall_opens_acknowledges_and_resolves_through_the_pages(
    client, oncall, widget, bob, team
):
    item = request_submit(actor=bob, template="widget", team=team, parameters={"name": "p-1"})
    client.force_login(oncall)
    response = client.post(
        "/incidents/open/",
        {
            "title": "ledger slow",
            "severity": "sev1",
            "started_at": "2026-01-07 14:30",
            "team": "payments",
            "requests": f"{item.uuid}",
        },
    )
    incident = Incident.objects.get()
    assert response["Location"] == f"/incidents/{incident.uuid}/"
    assert (incident.severity, incident.started_at.isoformat()) == (
        "sev1",
        "2026-01-07T14:30:00+00:00",
    )
    assert list(incident.requests.all()) == [item]
    page = client.get(f"/incidents/{incident.uuid}/").content.decode()
    assert "SEV1 — critical" in page and "Acknowledge (take it)" in page
    client.post(f"/incidents/{incident.uuid}/acknowledge/")
    incident.refresh_from_db()
    assert incident.owner == oncall and incident.acknowledged_by == oncall
    client.post(f"/incidents/{incident.uuid}/resolve/")
    incident.refresh_from_db()
    assert incident.resolved_at is not None
    actions = set(
        AuditEvent.objects.filter(object_id=str(incident.uuid)).values_list("action", flat=True)
    )
    assert actions == {"incident.opened", "incident.acknowledged", "incident.resolved"}


def test_bad_input_is_named_and_opens_nothing(client, oncall):
    client.force_login(oncall)
    client.post("/incidents/open/", {"title": "x", "requests": "not-a-request"})
    client.post("/incidents/open/", {"title": "x", "started_at": "yesterday-ish"})
    page = client.get("/incidents/").content.decode()
    assert "no request not-a-request that you may see" in page
    assert "Impact began: use a date and time" in page
    with pytest.raises(PlatformInvalid, match="before the incident is opened"):
        incident_open(actor=oncall, title="x", started_at=timezone.now() + dt.timedelta(hours=1))
    with pytest.raises(PlatformInvalid, match="sev1"):
        incident_open(actor=oncall, title="x", severity="catastrophic")
    assert not Incident.objects.exists()


def test_the_api_takes_severity_slos_and_requests_and_acknowledges_once(
    api_as, oncall, widget, bob, team
):
    item = request_submit(actor=bob, template="widget", team=team, parameters={"name": "p-1"})
    api = api_as(oncall)
    opened = api.post(
        "/api/incidents/",
        {"title": "ledger slow", "severity": "sev3", "requests": [str(item.uuid)]},
        format="json",
    )
    assert opened.status_code == 201, opened.json()
    body = opened.json()
    assert (body["severity"], body["requests"], body["slos"]) == ("sev3", [str(item.uuid)], [])
    uuid = body["uuid"]
    taken = api.post(f"/api/incidents/{uuid}/acknowledge/")
    assert taken.status_code == 200 and taken.json()["owner"] == oncall.username
    assert api.post(f"/api/incidents/{uuid}/acknowledge/").status_code == 409
    bad = api.post("/api/incidents/", {"title": "x", "severity": "huge"}, format="json")
    assert bad.status_code == 400 and "severity" in bad.json()


def test_resolving_an_incident_resolves_the_provisioning_failures_it_names(
    oncall, widget, bob, team
):
    item = request_submit(actor=bob, template="widget", team=team, parameters={"name": "p-1"})
    platform_alert_raise(
        key=f"provisioning-failed:{item.uuid}",
        alertname="ProvisioningFailed",
        severity="ticket",
        team="payments",
        service="ssops-provisioning",
        summary="failed",
        url="/",
        labels={"request": str(item.uuid), "template": "widget"},
    )
    incident = incident_open(actor=oncall, title="widgets fail", requests=[item])
    from metrics.services import incident_resolve

    incident_resolve(actor=oncall, incident=incident)
    alert = PlatformAlert.objects.get()
    assert not alert.firing and str(incident.uuid) in alert.resolution


def test_the_incident_page_lists_the_changes_before_it_and_rolls_them_back(
    client, oncall, platform_admin, bob
):
    save_policy(ALLOW)  # v1
    save_policy(STRICT)  # v2: the suspect
    publish(template_document("gizmo"))  # gizmo 1.0.0, also the day before
    incident = incident_open(actor=oncall, title="payments requests all denied")
    publish(template_document("late"))  # after the impact began: not a suspect

    client.force_login(oncall)
    page = client.get(f"/incidents/{incident.uuid}/").content.decode()
    assert "policy guard v2" in page and "template gizmo 1.0.0" in page
    assert "template late" not in page
    assert 'restore guard v1 <span class="muted">(platform admins)</span>' in page

    client.force_login(platform_admin)
    page = client.get(f"/incidents/{incident.uuid}/").content.decode()
    assert "Restore guard v1</button>" in page and "Deprecate gizmo 1.0.0</button>" in page
    back = client.post("/policies/guard/restore/1/", {"next": f"/incidents/{incident.uuid}/"})
    assert back["Location"] == f"/incidents/{incident.uuid}/"
    policy = Policy.objects.get(slug="guard")
    assert policy.current_version.number == 3 and "forbidden" in policy.current_version.source
    restored = AuditEvent.objects.get(action="policy.restored")
    assert json.loads(restored.body)["payload"]["restored"] == 1
    client.post(
        "/catalog/gizmo/versions/1.0.0/deprecate/", {"next": f"/incidents/{incident.uuid}/"}
    )
    assert TemplateVersion.objects.get(template__slug="gizmo").status == "deprecated"

    client.force_login(oncall)  # on-call reads the list but does not roll back
    assert client.post("/policies/guard/restore/1/").status_code == 403
    assert client.post("/catalog/gizmo/versions/1.0.0/deprecate/").status_code == 403


def test_mtta_and_mttr_per_period_on_hand_worked_times():
    t = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)  # a Monday
    h = dt.timedelta(hours=1)
    incidents = [
        # began 0 h, opened +0.5 h, acknowledged +1 h, resolved +3 h: MTTA 0.5 h, MTTR 3 h
        calc.IncidentTimes(t, t + h / 2, t + h, t + 3 * h),
        # opened 10 h, acknowledged 11.5 h (1.5 h), resolved the next week
        calc.IncidentTimes(t + 10 * h, t + 10 * h, t + 11.5 * h, t + 8 * 24 * h),
        calc.IncidentTimes(t + 20 * h, t + 20 * h, None, None),  # still open
    ]
    week = dt.timedelta(days=7)
    first, second = calc.incident_periods(incidents, [(t, t + week), (t + week, t + 2 * week)])
    assert (first.opened, first.acknowledged, first.resolved) == (3, 2, 1)
    assert first.mtta == 3600 and first.mttr == 3 * 3600  # (0.5 h + 1.5 h) / 2; 3 h
    assert (second.resolved, second.mtta) == (1, None)
    assert second.mttr == (8 * 24 - 10) * 3600


def test_an_incident_is_acknowledged_once(oncall):
    incident = incident_open(actor=oncall, title="x")
    incident_acknowledge(actor=oncall, incident=incident)
    with pytest.raises(PlatformInvalid, match="already acknowledged"):
        incident_acknowledge(actor=oncall, incident=incident)


def test_an_empty_team_name_is_refused_not_taken_for_none(api_as, oncall):
    """As the API's schema says (a name has at least one character)."""
    api = api_as(oncall)
    refused = api.post("/api/incidents/", {"title": "x", "team": ""}, format="json")
    assert refused.status_code == 400 and "empty name" in refused.json()["team"][0]
    listed = api.post("/api/incidents/", {"title": "x", "slos": [""]}, format="json")
    assert listed.status_code == 400 and "slos" in listed.json()
    assert not Incident.objects.exists()
    form = api.post("/api/incidents/", {"title": "x"})  # a form cannot say an empty list
    assert form.status_code == 415
    assert api.post("/api/incidents/", {"title": "x"}, format="json").status_code == 201
