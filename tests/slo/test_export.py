"""slo_export writes back what slo_import read: importing the export changes nothing, and
exporting again gives the same text."""

import io

import pytest
import yaml
from django.core.management import call_command

from slo.models import SLO

pytestmark = pytest.mark.django_db


def export(*args) -> str:
    out = io.StringIO()
    call_command("slo_export", *args, stdout=out)
    return out.getvalue()


def test_importing_the_export_changes_nothing_and_exports_the_same(slo_import, workload_slos):
    first = export()
    output = slo_import(first, name="export.yaml")
    assert " 0 created, 0 updated," in output
    assert export() == first


def test_the_export_is_openslo_v1_with_ssops_settings_as_annotations(workload_slos):
    documents = list(yaml.safe_load_all(export("--slo", "search-availability")))
    assert {d["apiVersion"] for d in documents} == {"openslo/v1"}
    (slo,) = [d for d in documents if d["kind"] == "SLO"]
    assert slo["metadata"]["annotations"]["ssops.io/team"] == "search"
    assert (
        slo["metadata"]["annotations"]["ssops.io/runbook-url"] == "https://runbooks.example/search"
    )
    ratio = slo["spec"]["indicator"]["spec"]["ratioMetric"]
    assert ratio["counter"] is True
    assert ratio["bad"]["metricSource"]["spec"]["query"] == (
        'http_requests_total{service="search",code=~"(5..|429)"}'
    )
    assert slo["spec"]["objectives"] == [{"target": 0.999}]


def test_an_export_restores_a_lost_database(slo_import, workload_slos, tmp_path):
    text = export()
    names = sorted(SLO.objects.values_list("name", flat=True))
    for slo in SLO.objects.all():
        slo.delete()
    slo_import(text, name="restore.yaml")
    assert sorted(SLO.objects.values_list("name", flat=True)) == names
    assert export() == text
