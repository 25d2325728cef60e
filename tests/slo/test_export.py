"""slo_export writes back what slo_import read, each SLO in the format it came in: importing the
export changes nothing, exporting again gives the same text, and fields SSOps does not use come
back where they were."""

import io

import pytest
import yaml
from django.core.management import call_command

from slo.models import SLO
from slo.services import slo_save

pytestmark = pytest.mark.django_db


def export(*args) -> str:
    out = io.StringIO()
    call_command("slo_export", *args, stdout=out)
    return out.getvalue()


def documents(*args) -> list[dict]:
    return list(yaml.safe_load_all(export(*args)))


def test_importing_the_export_changes_nothing_and_exports_the_same(slo_import, workload_slos):
    first = export()
    output = slo_import(first, name="export.yaml")
    assert " 0 created, 0 updated," in output
    assert export() == first


def test_every_format_round_trips(slo_import, shape_slos):
    first = export()
    kinds = {
        (d.get("apiVersion") or d.get("version"), d.get("kind", ""))
        for d in yaml.safe_load_all(first)
    }
    assert {
        ("openslo/v1", "SLO"),
        ("prometheus/v1", ""),
        ("sloth.slok.dev/v1", "PrometheusServiceLevel"),
        ("pyrra.dev/v1alpha1", "ServiceLevelObjective"),
    } <= kinds
    output = slo_import(first, name="export.yaml", sloth_period="7d")
    assert " 0 created, 0 updated," in output
    assert export() == first


def test_an_openslo_slo_comes_back_as_openslo_v1_with_ssops_settings_as_annotations(
    workload_slos,
):
    (slo,) = [d for d in documents("--slo", "checkout-availability") if d["kind"] == "SLO"]
    assert slo["apiVersion"] == "openslo/v1"
    assert slo["metadata"]["annotations"]["ssops.io/team"] == "payments"
    ratio = slo["spec"]["indicator"]["spec"]["ratioMetric"]
    assert ratio["counter"] is True
    assert ratio["bad"]["metricSource"]["spec"]["query"] == (
        'http_requests_total{service="checkout",code=~"5.."}'
    )


def test_a_sloth_slo_comes_back_as_sloth_with_rates_over_the_window(workload_slos):
    (spec,) = [d for d in documents("--slo", "search-availability") if "version" in d]
    assert (spec["version"], spec["service"]) == ("prometheus/v1", "search")
    (slo,) = spec["slos"]
    assert slo["name"] == "availability" and slo["objective"] == 99.9
    assert slo["sli"]["events"]["error_query"] == (
        'sum(rate(http_requests_total{service="search",code=~"(5..|429)"}[{{.window}}]))'
    )
    assert slo["alerting"] == {
        "name": "SearchAvailability",
        "annotations": {"runbook": "https://runbooks.example/search"},
    }


def test_a_kubernetes_sloth_object_keeps_its_metadata_and_groups_its_slos(shape_slos):
    found = documents("--slo", "shop-k8s-latency-clamped", "--slo", "platform-nodes-ready")
    objects = {d["metadata"]["name"]: d for d in found if d.get("kind") == "PrometheusServiceLevel"}
    assert set(objects) == {"shop-clamped", "platform"}
    clamped = objects["shop-clamped"]
    assert clamped["metadata"]["namespace"] == "monitoring"
    assert clamped["metadata"]["labels"] == {"app.kubernetes.io/part-of": "shop"}
    (slo,) = clamped["spec"]["slos"]
    assert slo["sli"]["events"]["errorQuery"].startswith("clamp_min(sum(rate(")
    assert slo["alerting"]["ticketAlert"] == {"disable": True}


def test_a_pyrra_object_comes_back_with_the_fields_ssops_does_not_use(shape_slos):
    (slo,) = [
        d for d in documents("--slo", "shop-latency-by-route-pyrra") if d["kind"] != "Service"
    ]
    assert slo["apiVersion"] == "pyrra.dev/v1alpha1"
    assert slo["metadata"]["namespace"] == "monitoring"  # kept, not used
    assert slo["spec"]["target"] == "99" and slo["spec"]["window"] == "7d"
    assert slo["spec"]["indicator"] == {
        "latency": {
            "success": {"metric": 'http_request_duration_seconds_bucket{job="shop",le="0.5"}'},
            "total": {"metric": 'http_request_duration_seconds_count{job="shop"}'},
            "grouping": ["route"],
        }
    }
    assert slo["spec"]["alerting"] == {"name": "ShopRouteSlow", "absent": False}
    native = [d for d in documents("--slo", "shop-native-pyrra") if d["kind"] != "Service"]
    assert native[0]["spec"]["indicator"] == {
        "latencyNative": {
            "total": {"metric": 'shop_request_seconds{job="shop"}'},
            "latency": "500ms",
        }
    }


def test_unused_openslo_fields_come_back_where_they_were(shape_slos):
    (slo,) = [d for d in documents("--slo", "shop-latency-openslo") if d["kind"] == "SLO"]
    assert slo["metadata"]["annotations"]["example.com/owner-chat"] == "#shop"
    assert slo["spec"]["indicator"]["metadata"]["displayName"] == "The SLI of shop-latency-openslo"
    assert slo["spec"]["objectives"][0]["op"] == "gt"  # means nothing for a ratio; kept


def test_a_pyrra_slo_pyrra_cannot_express_any_more_comes_back_as_openslo(shape_slos):
    slo = SLO.objects.get(name="probe-api-pyrra")
    slo.total_query = 'sum(count_over_time(probe_success{target="api"}[{{.window}}])) * 2'
    slo_save(actor=None, slo=slo)
    (found,) = [d for d in documents("--slo", "probe-api-pyrra") if d["kind"] == "SLO"]
    assert found["apiVersion"] == "openslo/v1"
    assert found["metadata"]["annotations"]["ssops.io/origin"] == "pyrra"


def test_an_export_restores_a_lost_database(slo_import, workload_slos, tmp_path):
    text = export()
    names = sorted(SLO.objects.values_list("name", flat=True))
    for slo in SLO.objects.all():
        slo.delete()
    slo_import(text, name="restore.yaml")
    assert sorted(SLO.objects.values_list("name", flat=True)) == names
    assert export() == text
