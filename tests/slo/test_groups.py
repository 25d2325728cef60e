"""Grouped SLOs: one definition measured as one SLO per label value, each with its own SLI,
budget, burn rates, alerts, history and page, listed under the definition; a cap on the number
of groups; groups that follow their definition."""

import io
import json
from datetime import UTC, datetime

import pytest
import requests
import yaml
from django.core.management import call_command

from audit.models import AuditEvent
from slo.models import SLO, AlertDelivery, AlertState, Snapshot
from slo.services import alert_deliveries_send, slo_evaluation_record, slo_save
from slo.services.alerts import group_alert_labels
from tests.services.alertmanager import AlertmanagerServer
from tests.slo import workload, workload_shapes

pytestmark = pytest.mark.django_db

OUTAGE = datetime.fromtimestamp(workload.OUTAGE[0] + 600, UTC)
BY_ROUTE = "shop-latency-by-route-pyrra"
BY_INSTANCE = "checkout-by-instance-pyrra"


@pytest.fixture
def recorded(settings, prometheus, shape_slos):
    settings.PROMETHEUS_URL = prometheus.url
    settings.ALERTMANAGER_URL = ""
    slo_evaluation_record(at=OUTAGE)
    return prometheus


def evaluate(*names: str, at: datetime = OUTAGE) -> dict:
    out = io.StringIO()
    args = [arg for name in names for arg in ("--slo", name)]
    call_command("slo_evaluate", "--json", "--at", at.isoformat(), *args, stdout=out)
    return {r["name"]: r for r in json.loads(out.getvalue())}


@pytest.mark.prometheus
def test_each_group_is_recorded_as_an_slo_of_its_own_under_its_definition(recorded):
    definition = SLO.objects.get(name=BY_ROUTE)
    groups = {tuple(g.group_labels.items()): g for g in definition.groups.all()}
    assert set(groups) == {(("route", "/cart"),), (("route", "/pay"),)}
    results = evaluate(BY_ROUTE)
    for group in groups.values():
        snapshot = group.snapshots.get(at=OUTAGE)
        result = results[group.display_name]
        assert group.display_name == f'{BY_ROUTE}{{route="{group.group_labels["route"]}"}}'
        assert (snapshot.sli, snapshot.burn_rates) == (result["sli"], result["burn_rates"])
        assert (group.objective, group.service, group.team) == (
            definition.objective,
            definition.service,
            definition.team,
        )
    assert (
        AuditEvent.objects.filter(action="slo.group.created").count()
        == SLO.objects.exclude(parent=None).count()
    )
    # The definition's own figures are every group together: the same SLI, ungrouped.
    whole = Snapshot.objects.get(slo=definition, at=OUTAGE)
    ungrouped = Snapshot.objects.get(slo__name="shop-latency-pyrra", at=OUTAGE)
    assert whole.sli == pytest.approx(ungrouped.sli, rel=1e-12) and whole.alerts == []


@pytest.mark.prometheus
def test_a_group_pages_on_its_own_with_the_definitions_name_and_its_labels(recorded):
    pay = SLO.objects.get(parent__name=BY_ROUTE, group_labels={"route": "/pay"})
    cart = SLO.objects.get(parent__name=BY_ROUTE, group_labels={"route": "/cart"})
    assert AlertState.objects.get(slo=pay, severity="page").firing
    assert not AlertState.objects.filter(slo=cart, severity="page", firing=True).exists()
    assert not AlertState.objects.filter(slo__name=BY_ROUTE, firing=True).exists()
    (delivery,) = AlertDelivery.objects.filter(state__slo=pay, state__severity="page")
    labels = delivery.payload["labels"]
    assert labels["slo"] == BY_ROUTE and labels["route"] == "/pay"
    assert labels["alertname"] == "ShopRouteSlow"  # Pyrra's alerting.name
    assert delivery.payload["generatorURL"].endswith(f"/slos/{pay.name}/")


@pytest.mark.prometheus
def test_alertmanager_groups_the_pages_of_one_definition_into_one_notification(
    recorded, tmp_path, settings
):
    server = AlertmanagerServer(tmp_path / "am", group_by=["slo"]).start()
    try:
        settings.ALERTMANAGER_URL = server.url
        alert_deliveries_send()
        groups = requests.get(f"{server.url}/api/v2/alerts/groups", timeout=5).json()
        by_slo = {
            group["labels"]["slo"]: {a["labels"].get("instance") for a in group["alerts"]}
            for group in groups
        }
        # Both instances of checkout page in the outage: one notification group for them.
        pages = [g for g in groups if g["labels"]["slo"] == BY_INSTANCE]
        assert len(pages) == 1 and {"a", "b"} <= by_slo[BY_INSTANCE]
    finally:
        server.stop()


@pytest.mark.prometheus
def test_too_many_groups_give_a_clear_status_not_a_blow_up(settings, prometheus, shape_slos):
    settings.PROMETHEUS_URL = prometheus.url
    settings.SLO_MAX_GROUPS = 1
    (result,) = evaluate(BY_ROUTE).values()
    assert (result["name"], result["group"], result["data_status"]) == (BY_ROUTE, {}, "unavailable")
    slo_evaluation_record(at=OUTAGE)
    definition = SLO.objects.get(name=BY_ROUTE)
    assert "2 groups, more than the 1 allowed (setting SSOPS_SLO_MAX_GROUPS)" in (
        definition.data_status_detail
    )
    assert not definition.groups.exists()


@pytest.mark.prometheus
def test_a_group_whose_series_are_gone_has_no_data(settings, prometheus, shape_slos):
    settings.PROMETHEUS_URL = prometheus.url
    settings.ALERTMANAGER_URL = ""
    native = datetime.fromtimestamp(workload_shapes.NATIVE_END, UTC)
    slo_evaluation_record(at=native)
    groups = SLO.objects.filter(parent__name="shop-native-by-route-pyrra")
    assert {g.data_status for g in groups} == {"ok"} and groups.count() == 2
    slo_evaluation_record(at=OUTAGE)  # before the native histograms began
    for group in groups.all():
        assert group.data_status == "no_data"
        assert group.snapshots.get(at=OUTAGE).sli is None


def test_groups_follow_their_definition(slo_import, shape_slos):
    definition = SLO.objects.get(name=BY_ROUTE)
    pay = definition.group_row({"route": "/pay"}, f'{BY_ROUTE}{{route="/pay"}}')
    pay.save()
    definition.objective = 0.995
    slo_save(actor=None, slo=definition)
    pay.refresh_from_db()
    assert pay.objective == 0.995
    definition.numerator_query = 'http_request_duration_seconds_bucket{job="shop",le="0.5"}'
    definition.total_query = 'http_request_duration_seconds_count{job="shop"}'
    definition.group_by = ["job"]  # the canonical queries now sum by (job)
    slo_save(actor=None, slo=definition)
    assert "sum by (job)" in definition.total_query
    assert not definition.groups.exists()  # the old groups were per route
    event = AuditEvent.objects.filter(action="slo.slo.updated").latest("seq")
    assert event.payload["groups_removed"] == [f'{BY_ROUTE}{{route="/pay"}}']


def test_a_group_is_read_only(api_as, admin_user, shape_slos):
    definition = SLO.objects.get(name=BY_ROUTE)
    pay = definition.group_row({"route": "/pay"}, f'{BY_ROUTE}{{route="/pay"}}')
    pay.save()
    api = api_as(admin_user)
    shown = api.get(f"/api/slos/{pay.uuid}/").json()
    assert (shown["parent"], shown["group_labels"]) == (BY_ROUTE, {"route": "/pay"})
    response = api.patch(f"/api/slos/{pay.uuid}/", {"objective": 0.9}, format="json")
    assert response.status_code == 400 and "one group of the grouped SLO" in response.text
    assert api.delete(f"/api/slos/{pay.uuid}/").status_code == 400
    assert SLO.objects.get(pk=pay.pk).objective == definition.objective


def test_the_definition_page_lists_its_groups_and_a_group_page_links_back(
    client, admin_user, shape_slos
):
    definition = SLO.objects.get(name=BY_ROUTE)
    pay = definition.group_row({"route": "/pay"}, f'{BY_ROUTE}{{route="/pay"}}')
    pay.save()
    client.force_login(admin_user)
    page = client.get(f"/slos/{BY_ROUTE}/").content.decode()
    assert '<h2 id="groups">Groups</h2>' in page and 'route="/pay"' in page
    assert f'href="/slos/{pay.name}/"' in page
    group_page = client.get(f"/slos/{pay.name}/").content.decode()
    assert f'One group of <a href="/slos/{BY_ROUTE}/">' in group_page
    listing = client.get("/slos/").content.decode()
    assert listing.index(f'/slos/{BY_ROUTE}/"') < listing.index(f'/slos/{pay.name}/"')


def test_a_group_label_ssops_sets_itself_is_kept_under_another_name():
    assert group_alert_labels({"service": "a", "route": "/x", "team": "b"}) == {
        "exported_service": "a",
        "route": "/x",
        "exported_team": "b",
    }


def test_the_rules_of_a_grouped_slo_keep_a_colliding_label(slo_import, team):
    slo_import(
        """
apiVersion: pyrra.dev/v1alpha1
kind: ServiceLevelObjective
metadata: {name: per-service, labels: {team: payments}}
spec:
  target: "99.5"
  window: 28d
  indicator:
    ratio:
      errors: {metric: 'http_requests_total{code="500"}'}
      total: {metric: http_requests_total}
      grouping: [service]
""",
        name="pyrra.yaml",
    )
    out = io.StringIO()
    call_command("slo_rules", "--slo", "per-service", stdout=out)
    (group,) = yaml.safe_load(out.getvalue())["groups"]
    first = group["rules"][0]["expr"]
    assert first.startswith(
        'label_replace((sum by (service) (increase(http_requests_total{code="500"}'
    )
    assert '"exported_service", "$1", "service", "(.*)")' in first
