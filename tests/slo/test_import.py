"""slo_import: OpenSLO v1 and Sloth prometheus/v1, upsert by name, whole files or nothing."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from audit.models import AuditEvent
from slo.models import SLO, DataSource, Indicator, Service

pytestmark = pytest.mark.django_db


def slo_yaml(
    name="orders-availability",
    query='sum(http_requests_total{service="orders",code=~"5.."})',
    total='sum(http_requests_total{service="orders"})',
    window="duration: 30d\n      isRolling: true",
    objective="target: 0.999",
    extra="",
    team="payments",
):
    return f"""
apiVersion: openslo/v1
kind: SLO
metadata:
  name: {name}
  labels:
    team: {team}
spec:
  service: orders
  indicator:
    metadata:
      name: orders-errors
    spec:
      ratioMetric:
        counter: true
        bad:
          metricSource:
            type: Prometheus
            spec:
              query: '{query}'
        total:
          metricSource:
            type: Prometheus
            spec:
              query: '{total}'
  timeWindow:
    - {window}
  budgetingMethod: Occurrences
  objectives:
    - {objective}
{extra}"""


def refused(slo_import, text, **kwargs) -> str:
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command(
            "slo_import", _write(slo_import, text), stderr=err, stdout=io.StringIO(), **kwargs
        )
    return err.getvalue()


def _write(slo_import, text):
    import tempfile
    from pathlib import Path

    path = Path(tempfile.mkdtemp()) / "bad.yaml"
    path.write_text(text)
    return str(path)


def test_an_slo_imports_with_its_service_owned_by_its_team(slo_import, team):
    assert "1 created" in slo_import(slo_yaml()) or "2 created" in slo_import(slo_yaml())
    slo = SLO.objects.get(name="orders-availability")
    assert (slo.team, slo.service.name, slo.service.team) == (team, "orders", team)
    assert slo.numerator_kind == "bad" and slo.objective == 0.999
    assert slo.numerator_query == 'http_requests_total{service="orders",code=~"5.."}'
    assert slo.window_label() == "30d" and slo.origin == "openslo"


def test_import_is_an_upsert_by_name_with_the_change_audited(slo_import, team):
    slo_import(slo_yaml())
    out = slo_import(slo_yaml(objective="target: 0.995"))
    assert "1 updated" in out
    assert SLO.objects.get(name="orders-availability").objective == 0.995
    event = AuditEvent.objects.filter(action="slo.slo.updated").get()
    assert event.payload["changes"]["objective"] == [0.999, 0.995]


def test_importing_the_same_file_again_changes_nothing(slo_import, team):
    slo_import(slo_yaml())
    before = AuditEvent.objects.count()
    assert "0 created, 0 updated, 1 unchanged" in slo_import(slo_yaml())
    assert AuditEvent.objects.count() == before


def test_a_bare_selector_and_its_sum_are_the_same_counter(slo_import, team):
    slo_import(slo_yaml(query='http_requests_total{service="orders",code=~"5.."}'))
    bare = SLO.objects.get().numerator_query
    assert "unchanged" in slo_import(slo_yaml(query=f"sum({bare})"))


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ('sum by (code) (http_requests_total{service="orders"})', "group both by the same labels"),
        ('rate(http_requests_total{service="orders"}[5m])', "needs the range [{{.window}}]"),
        ('http_requests_total{service="orders"} offset 1h', "remove the offset"),
        ("sum(a_total) * sum(b_total)", "'*' between parts is not a sum or difference"),
        ('avg(http_requests_total{service="orders"})', "use sum(...)"),
        ("sum(http_requests_total{", "not valid PromQL"),
        ('{service="orders"}', "needs a metric name"),
        ('sum(http_requests_total{service="orders"}) # errors', "remove the # comment"),
        ('scalar(http_requests_total{service="orders"})', "wrap it in vector(...)"),
    ],
)
def test_a_query_ssops_cannot_count_is_refused_naming_the_field(slo_import, team, query, reason):
    message = refused(slo_import, slo_yaml(query=query))
    field = "spec.indicator.spec.ratioMetric.bad.metricSource.spec.query"
    assert f"document 1 (SLO orders-availability): {field}: " in message and reason in message
    assert not SLO.objects.exists()


def test_a_one_minute_window_is_refused_with_a_hint(slo_import, team):
    message = refused(slo_import, slo_yaml(window="duration: 1m\n      isRolling: true"))
    assert "spec.timeWindow[0].duration: 1m is 1 minute(s) (did you mean M, a month?)" in message


def test_a_calendar_window_keeps_its_start_and_time_zone(slo_import, team):
    window = (
        "duration: 1M\n      isRolling: false\n      calendar:\n"
        "        startTime: 2025-01-01 00:00:00\n        timeZone: Europe/Paris"
    )
    slo_import(slo_yaml(window=window))
    slo = SLO.objects.get()
    assert slo.window_label() == "1M calendar"
    assert slo.calendar_start.isoformat() == "2024-12-31T23:00:00+00:00"


def test_a_bad_time_zone_is_refused(slo_import, team):
    window = (
        "duration: 1w\n      isRolling: false\n      calendar:\n"
        "        startTime: 2025-01-01 00:00:00\n        timeZone: Mars/Olympus"
    )
    assert "spec.timeWindow[0].calendar.timeZone: 'Mars/Olympus'" in refused(
        slo_import, slo_yaml(window=window)
    )


def test_an_objective_out_of_range_is_refused(slo_import, team):
    message = refused(slo_import, slo_yaml(objective="target: 99.9"))
    assert "spec.objectives[0].target: the objective is a share between 0 and 1" in message


def test_target_percent_is_a_percentage(slo_import, team):
    slo_import(slo_yaml(objective="targetPercent: 99.95"))
    assert SLO.objects.get().objective == 0.9995


def test_without_an_ssops_team_the_slo_is_refused_naming_the_label(slo_import, team):
    message = refused(slo_import, slo_yaml(team="team-a"))
    assert "metadata.labels.team: no SSOps team owns this SLO (labels name 'team-a')" in message
    slo_import(slo_yaml(team="team-a"), team="payments")  # --team gives the owner
    assert SLO.objects.get().team == team


def test_a_dangling_reference_refuses_the_whole_file(slo_import, team):
    text = """
apiVersion: openslo/v1
kind: DataSource
metadata: {name: main-prometheus}
spec: {type: Prometheus, connectionDetails: {url: "http://prometheus:9090"}}
---
""" + slo_yaml(extra="  alertPolicies:\n    - alertPolicyRef: nobody-wrote-this")
    message = refused(slo_import, text)
    assert (
        "document 2 (SLO orders-availability): spec.alertPolicies[0].alertPolicyRef: "
        "AlertPolicy 'nobody-wrote-this' does not resolve" in message
    )
    assert not DataSource.objects.exists() and not Service.objects.exists()


def test_a_named_sli_is_copied_into_the_slos_that_refer_to_it(slo_import, team):
    sli = """
apiVersion: openslo/v1
kind: SLI
metadata: {name: orders-errors}
spec:
  ratioMetric:
    counter: true
    bad: {metricSource: {type: Prometheus, spec: {query: 'x_total{code="500"}'}}}
    total: {metricSource: {type: Prometheus, spec: {query: x_total}}}
"""
    slo = """
apiVersion: openslo/v1
kind: SLO
metadata: {name: orders-by-ref, labels: {team: payments}}
spec:
  service: orders
  indicatorRef: orders-errors
  timeWindow: [{duration: 4w, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{target: 0.99}]
"""
    slo_import(sli + "---" + slo)
    imported = SLO.objects.get()
    assert imported.indicator.name == "orders-errors"
    assert imported.numerator_query == 'x_total{code="500"}' and imported.total_query == "x_total"
    slo_import(sli.replace('code="500"', 'code=~"5.."'), name="sli.yaml")
    assert SLO.objects.get().numerator_query == 'x_total{code=~"5.."}'
    assert Indicator.objects.count() == 1


def test_a_reference_resolves_to_an_object_imported_before(slo_import, team):
    slo_import(
        "apiVersion: openslo/v1\nkind: DataSource\nmetadata: {name: eu}\n"
        "spec: {type: Prometheus, connectionDetails: [{url: 'http://eu-prometheus:9090'}]}\n",
        name="sources.yaml",
    )
    text = slo_yaml().replace(
        "type: Prometheus", "metricSourceRef: eu\n            type: Prometheus"
    )
    slo_import(text)
    assert SLO.objects.get().data_source.url == "http://eu-prometheus:9090"


def test_good_and_total_from_different_sources_are_refused(slo_import, team):
    slo_import(
        "apiVersion: openslo/v1\nkind: DataSource\nmetadata: {name: eu}\n"
        "spec: {type: Prometheus}\n",
        name="sources.yaml",
    )
    text = slo_yaml().replace(
        "type: Prometheus", "metricSourceRef: eu\n            type: Prometheus", 1
    )
    assert "ratioMetric.total.metricSource: bad and total must come from the same data source" in (
        refused(slo_import, text)
    )


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("apiVersion: openslo/v2\nkind: SLO\n", "document 1 (SLO): apiVersion: 'openslo/v2'"),
        ("apiVersion: openslo/v1\nkind: Budget\nmetadata: {name: x}\n", "kind: 'Budget'"),
        (
            "apiVersion: openslo/v1\nkind: SLO\nspec: {}\n",
            "document 1 (SLO): metadata: is required",
        ),
        ("a: [unclosed\n", "is not valid YAML"),
        ("", "holds no documents"),
    ],
)
def test_malformed_files_are_refused_with_the_place(slo_import, text, where):
    assert where in refused(slo_import, text)


def test_two_objectives_are_refused_as_one_slo_keeps_one(slo_import, team):
    message = refused(slo_import, slo_yaml(objective="target: 0.99\n    - target: 0.999"))
    assert "spec.objectives: 2 objectives: SSOps keeps one objective per SLO" in message


def test_a_threshold_metric_needs_timeslices(slo_import, team):
    text = (
        slo_yaml().split("  indicator:")[0]
        + """  indicator:
    spec:
      thresholdMetric:
        metricSource: {type: Prometheus, spec: {query: 'max(latency_p99_seconds)'}}
  timeWindow: [{duration: 7d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{op: lt, value: 0.5, target: 0.99}]
"""
    )
    assert "spec.budgetingMethod: a threshold metric is budgeted in Timeslices" in refused(
        slo_import, text
    )
    slo_import(
        text.replace("Occurrences", "Timeslices").replace(
            "target: 0.99", "target: 0.99, timeSliceWindow: 1m"
        )
    )
    slo = SLO.objects.get()
    assert (slo.threshold_op, slo.threshold_value, slo.timeslice_window) == ("lt", 0.5, "1m")


SLOTH = """
version: prometheus/v1
service: myservice
labels:
  owner: payments
slos:
  - name: requests-availability
    objective: 99.9
    description: Common SLO based on availability for HTTP request responses.
    sli:
      events:
        error_query: sum(rate(http_requests_total{job="myservice",code=~"(5..|429)"}[{{.window}}]))
        total_query: sum(rate(http_requests_total{job="myservice"}[{{ .window }}]))
    alerting:
      name: MyServiceHighErrorRate
      labels:
        category: availability
      annotations:
        runbook: https://runbooks.example/myservice
      page_alert:
        labels:
          routing_key: myteam
      ticket_alert:
        disable: true
"""


def test_a_sloth_spec_imports_each_slo_as_service_dash_name(slo_import, team):
    slo_import(SLOTH)
    slo = SLO.objects.get()
    assert (slo.name, slo.service.name, slo.team, slo.origin) == (
        "myservice-requests-availability",
        "myservice",
        team,
        "sloth",
    )
    assert slo.objective == 0.999 and slo.window_label() == "30d"
    assert slo.numerator_query == 'http_requests_total{job="myservice",code=~"(5..|429)"}'
    assert slo.total_query == 'http_requests_total{job="myservice"}'
    assert slo.runbook_url == "https://runbooks.example/myservice"
    assert slo.alert_labels == {
        "*": {"category": "availability", "alertname": "MyServiceHighErrorRate"},
        "page": {"routing_key": "myteam"},
    }
    assert slo.page_alerts and not slo.ticket_alerts


def test_a_sloth_query_without_its_window_is_refused(slo_import, team):
    text = SLOTH.replace("[{{.window}}]", "[5m]")
    assert "document 1 (Sloth service myservice): slos[0].sli.events.error_query: " in refused(
        slo_import, text
    )


def test_a_sloth_sli_with_events_and_raw_is_refused(slo_import, team):
    text = SLOTH.replace(
        "      events:", "      raw:\n        error_ratio_query: x[{{.window}}]\n      events:"
    )
    assert "slos[0].sli.events: give exactly one of events, raw" in refused(slo_import, text)
