"""slo_import reads Sloth (both forms), OpenSLO v1alpha and Pyrra files as their users write
them: every field used or kept, the evaluation path chosen per SLI, plugins and broken PromQL
refused naming the place — and a refused file imports nothing."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from audit.models import AuditEvent
from slo.models import SLO
from tests.slo import shape_documents

pytestmark = pytest.mark.django_db


def refused(tmp_path, text: str, *args) -> str:
    """slo_import's message for a refused file; asserts the file changed nothing."""
    path = tmp_path / "refused.yaml"
    path.write_text(text)
    before = (AuditEvent.objects.count(), SLO.objects.count())
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("slo_import", str(path), *args, stdout=io.StringIO(), stderr=err)
    assert (AuditEvent.objects.count(), SLO.objects.count()) == before
    return err.getvalue()


SLOTH = """
version: "prometheus/v1"
service: "myservice"
labels:
  owner: "payments"
  tier: 2
  critical: true
  ratio: 0.5
slos:
  - name: "requests-availability"
    objective: 99.9
    description: "Availability of HTTP request responses."
    labels:
      category: availability
    infoLabels:
      dashboard: https://grafana.example/d/requests
    interval:
      all: 2m
    sli:
      events:
        error_query: >-
          sum(rate(http_request_duration_seconds_count{job="api",code=~"(5..|429)"}[{{ .window }}]))
        total_query: sum(rate(http_request_duration_seconds_count{job="api"}[{{.window}}]))
    alerting:
      name: MyServiceHighErrorRate
      labels:
        category: "availability"
      annotations:
        runbook: "https://runbooks.example/myservice"
      page_alert:
        labels:
          severity: pageteam
          routing_key: myteam
        annotations:
          summary: Paging the team
      ticket_alert:
        labels:
          severity: "slack"
          slack_channel: "#alerts-myteam"
  - name: "latency"
    objective: 99
    sli:
      raw:
        error_ratio_query: |
          sum(rate(http_request_duration_seconds_bucket{job="myservice",le="+Inf"}[{{.window}}]))
          - on()
          sum(rate(http_request_duration_seconds_bucket{job="myservice",le="0.25"}[{{.window}}]))
          /
          sum(rate(http_request_duration_seconds_count{job="myservice"}[{{.window}}]))
    alerting:
      page_alert:
        disable: true
      ticket_alert:
        disable: true
"""


def test_a_sloth_file_imports_every_field_it_has(slo_import, team):
    slo_import(SLOTH)
    events = SLO.objects.get(name="myservice-requests-availability")
    assert (events.origin, events.evaluation, events.window_label()) == ("sloth", "exact", "30d")
    assert events.labels == {
        "owner": "payments",
        "tier": "2",
        "critical": "true",
        "ratio": "0.5",
        "category": "availability",
    }
    assert events.alert_labels == {
        "*": {"category": "availability", "alertname": "MyServiceHighErrorRate"},
        "page": {"severity": "pageteam", "routing_key": "myteam"},
        "ticket": {"severity": "slack", "slack_channel": "#alerts-myteam"},
    }
    assert events.severity_annotations == {"page": {"summary": "Paging the team"}}
    assert events.runbook_url == "https://runbooks.example/myservice"
    assert events.kept_fields == [
        [["slos", "*", "infoLabels"], {"dashboard": "https://grafana.example/d/requests"}],
        [["slos", "*", "interval"], {"all": "2m"}],
    ]
    raw = SLO.objects.get(name="myservice-latency")
    assert (raw.indicator_type, raw.numerator_kind, raw.evaluation) == ("raw", "bad", "promql")
    assert raw.ratio_query.startswith("sum(rate(http_request_duration_seconds_bucket")
    assert not raw.page_alerts and not raw.ticket_alerts


def test_sloths_period_comes_from_the_command_and_an_slo_keeps_its_own(slo_import, team):
    slo_import(SLOTH, sloth_period="28d")
    assert SLO.objects.get(name="myservice-latency").window_label() == "28d"
    slo_import(SLOTH)  # without --sloth-period: the SLO keeps the period it has
    assert SLO.objects.get(name="myservice-latency").window_label() == "28d"
    slo_import(SLOTH.replace('service: "myservice"', "service: other"))
    assert SLO.objects.get(name="other-latency").window_label() == "30d"  # Sloth's default


def test_a_bad_sloth_period_is_refused(tmp_path, team):
    assert "--sloth-period: 90m is 90 minute(s)" in str(
        pytest.raises(CommandError, call_command, "slo_import", "x", "--sloth-period", "90m").value
    )


@pytest.mark.parametrize(
    ("change", "where", "reason"),
    [
        (
            (
                "      events:",
                "      plugin:\n"
                "        id: sloth-common/kubernetes/apiserver/availability\n"
                "        options: {filter: 'verb!=\"WATCH\"'}\n"
                "      events:",
            ),
            "slos[0].sli.plugin.id",
            "'sloth-common/kubernetes/apiserver/availability' is Go code that runs inside Sloth",
        ),
        (
            (
                "slos:\n",
                "slo_plugins:\n  chain:\n"
                "    - id: sloth.dev/contrib/denominator_corrected_rules/v1\nslos:\n",
            ),
            "slo_plugins",
            "sloth.dev/contrib/denominator_corrected_rules/v1 are Go code",
        ),
        (
            ("    objective: 99.9\n", "    objetive: 99.9\n"),
            "slos[0].objetive",
            "did you mean objective?",
        ),
        (
            ('code=~"(5..|429)"}[{{ .window }}]))', 'code=~"(5..|429)"}[{{ .window }}])'),
            "slos[0].sli.events.error_query",
            "not valid PromQL",
        ),
        (
            (
                "error_ratio_query: |",
                "error_ratio_query: sum(x_total) / sum(y_total)\n        ignored: |",
            ),
            "slos[1].sli.raw.ignored",
            "is not a field of Sloth prometheus/v1 raw SLI",
        ),
        (
            (
                "sum(rate(http_request_duration_seconds_count"
                '{job="api",code=~"(5..|429)"}[{{ .window }}]))',
                'avg(http_request_duration_seconds_count{job="api"})',
            ),
            "slos[0].sli.events.error_query",
            "write {{.window}} where the window goes",
        ),
    ],
    ids=["sli plugin", "slo plugins", "typo", "broken promql", "unknown field", "no window"],
)
def test_what_sloth_files_cannot_have_is_refused_naming_it(tmp_path, team, change, where, reason):
    message = refused(tmp_path, SLOTH.replace(*change))
    assert f"document 1 (Sloth service myservice): {where}: " in message, message
    assert reason in message, message


K8S = """
apiVersion: v1
kind: List
items:
  - apiVersion: sloth.slok.dev/v1
    kind: PrometheusServiceLevel
    metadata:
      name: sloth-slo-home-wifi
      namespace: monitoring
      uid: 5d6f8f2b-0000-4000-8000-000000000000
      resourceVersion: "4242"
    spec:
      service: "home-wifi"
      labels:
        team: payments
      slos:
        - name: "good-wifi-client-satisfaction"
          objective: 95
          description: "Clients are satisfied with the wifi."
          sli:
            events:
              errorQuery: >-
                sum_over_time((count(unifipoller_client_satisfaction_ratio < 0.75))[{{.window}}:])
                OR on() vector(0)
              totalQuery: >-
                sum_over_time((count(unifipoller_client_satisfaction_ratio))[{{.window}}:])
          alerting:
            name: SlothWifiClientSatisfaction
            pageAlert:
              disable: true
            ticketAlert:
              labels:
                category: "wifi-client"
    status:
      processedSLOs: 1
      promOpRulesGenerated: true
  - apiVersion: sloth.slok.dev/v1
    kind: PrometheusServiceLevel
    metadata:
      name: sloth-slo-raw
    spec:
      service: raw
      labels:
        team: payments
      slos:
        - name: ratio
          objective: 99
          sli:
            raw:
              errorRatioQuery: 1 - avg_over_time(probe_success[{{.window}}])
"""


def test_kubernetes_sloth_objects_import_from_a_list(slo_import, team):
    slo_import(K8S)
    wifi = SLO.objects.get(name="home-wifi-good-wifi-client-satisfaction")
    assert (wifi.origin, wifi.evaluation, wifi.objective) == ("sloth_k8s", "promql", 0.95)
    assert not wifi.page_alerts and wifi.ticket_alerts
    kept = {tuple(path): value for path, value in wifi.kept_fields}
    assert kept[("metadata", "name")] == "sloth-slo-home-wifi"
    assert kept[("metadata", "namespace")] == "monitoring"
    assert kept[("status",)] == {"processedSLOs": 1, "promOpRulesGenerated": True}
    raw = SLO.objects.get(name="raw-ratio")
    assert (raw.indicator_type, raw.ratio_query) == (
        "raw",
        "1 - avg_over_time(probe_success[{{.window}}])",
    )


def test_snake_case_in_the_kubernetes_form_is_refused_with_the_camel_case_name(tmp_path, team):
    message = refused(tmp_path, K8S.replace("errorQuery:", "error_query:"))
    assert (
        "spec.slos[0].sli.events.error_query: is not a field of Sloth PrometheusServiceLevel "
        in message
    )
    assert "did you mean errorQuery?" in message


ALPHA = """
apiVersion: openslo/v1alpha
kind: SLO
metadata:
  name: sloth-slo-my-service
  displayName: Requests Availability
spec:
  service: my-service
  description: "Common SLO based on availability for HTTP request responses."
  budgetingMethod: Occurrences
  objectives:
    - ratioMetrics:
        good:
          source: prometheus
          queryType: promql
          query: >-
            sum(rate(http_request_duration_seconds_count{job="myservice",code!~"(5..|429)"}[{{.window}}]))
        total:
          source: prometheus
          queryType: promql
          query: sum(rate(http_request_duration_seconds_count{job="myservice"}[{{.window}}]))
      target: 0.999
    - displayName: Strict
      value: 1
      ratioMetrics:
        good:
          source: prometheus
          queryType: promql
          query: >-
            sum(rate(http_request_duration_seconds_count{job="myservice",code!~"(5..|429)"}[{{.window}}]))
        total:
          source: prometheus
          queryType: promql
          query: sum(rate(http_request_duration_seconds_count{job="myservice"}[{{.window}}]))
      target: 0.9999
  timeWindows:
    - count: 30
      isRolling: true
      unit: Day
"""


def test_openslo_v1alpha_gives_one_slo_per_objective_named_as_sloth_names_them(slo_import, team):
    slo_import(ALPHA, team="payments")
    first, strict = SLO.objects.order_by("name")
    assert (first.name, first.objective, first.window_label()) == (
        "my-service-sloth-slo-my-service-0",
        0.999,
        "30d",
    )
    assert (strict.name, strict.objective, strict.objective_name) == (
        "my-service-sloth-slo-my-service-1",
        0.9999,
        "Strict",
    )
    assert (first.numerator_kind, first.evaluation) == ("good", "exact")
    assert strict.kept_fields == [[["spec", "objectives", 0, "value"], 1]]


@pytest.mark.parametrize(
    ("change", "where", "reason"),
    [
        (
            ("budgetingMethod: Occurrences", "budgetingMethod: Timeslices"),
            "spec.budgetingMethod",
            "gives no time slice length",
        ),
        (
            ("source: prometheus", "source: datadog"),
            "spec.objectives[0].ratioMetrics.good.source",
            "'datadog'",
        ),
        (("unit: Day", "unit: Fortnight"), "spec.timeWindows[0].unit", "'Fortnight' is not one of"),
    ],
)
def test_what_v1alpha_cannot_say_is_refused(tmp_path, team, change, where, reason):
    message = refused(tmp_path, ALPHA.replace(*change, 1), "--team", "payments")
    assert f"document 1 (SLO sloth-slo-my-service): {where}: " in message and reason in message


def _pyrra(indicator: str, extra: str = "", target: str = '"99.5"') -> str:
    return f"""
apiVersion: pyrra.dev/v1alpha1
kind: ServiceLevelObjective
metadata:
  name: pyrra-api-errors
  namespace: monitoring
  labels:
    prometheus: k8s
    role: alert-rules
    pyrra.dev/team: payments
spec:
  target: {target}
  window: 2w
  description: Pyrra's API requests should not fail.
  indicator:
{indicator}{extra}
"""


RATIO = """    ratio:
      errors:
        metric: http_requests_total{job="pyrra",code=~"5.."}
      total:
        metric: http_requests_total{job="pyrra"}"""


def test_a_pyrra_objects_service_comes_from_its_label_or_its_name(slo_import, team):
    slo_import(_pyrra(RATIO))
    slo = SLO.objects.get(name="pyrra-api-errors")
    assert (slo.service.name, slo.team, slo.objective, slo.window_label()) == (
        "pyrra-api-errors",
        team,
        0.995,
        "2w",
    )
    assert (slo.numerator_query, slo.evaluation) == (
        'http_requests_total{job="pyrra",code=~"5.."}',
        "exact",
    )
    slo_import(
        _pyrra(RATIO).replace("    prometheus: k8s", "    service: api\n    prometheus: k8s")
    )
    assert SLO.objects.get(name="pyrra-api-errors").service.name == "api"
    kept = {tuple(path): value for path, value in slo.kept_fields}
    assert kept == {("metadata", "namespace"): "monitoring"}


@pytest.mark.parametrize(
    ("indicator", "numerator", "total", "path", "group_by"),
    [
        (
            RATIO + "\n      grouping: [handler]",
            'sum by (handler) (http_requests_total{job="pyrra",code=~"5.."})',
            'sum by (handler) (http_requests_total{job="pyrra"})',
            "exact",
            ["handler"],
        ),
        (
            """    latency:
      success:
        metric: http_request_duration_seconds_bucket{job="pyrra",le="1"}
      total:
        metric: http_request_duration_seconds_count{job="pyrra"}""",
            'http_request_duration_seconds_bucket{job="pyrra",le="1"}',
            'http_request_duration_seconds_count{job="pyrra"}',
            "exact",
            [],
        ),
        (
            """    latencyNative:
      latency: 1500ms
      total:
        metric: connect_server_requests_duration_seconds{job="api"}""",
            "histogram_fraction(0, 1.5, sum(rate(connect_server_requests_duration_seconds"
            '{job="api"}[{{.window}}]))) * histogram_count(sum(rate('
            'connect_server_requests_duration_seconds{job="api"}[{{.window}}])))',
            'histogram_count(sum(rate(connect_server_requests_duration_seconds{job="api"}[{{.window}}])))',
            "promql",
            [],
        ),
        (
            """    bool_gauge:
      metric: probe_success{job="blackbox"}
      grouping:
        - instance""",
            'sum by (instance) (sum_over_time(probe_success{job="blackbox"}[{{.window}}]))',
            'sum by (instance) (count_over_time(probe_success{job="blackbox"}[{{.window}}]))',
            "promql",
            ["instance"],
        ),
    ],
    ids=["ratio grouped", "latency", "latencyNative", "bool_gauge grouped"],
)
def test_each_pyrra_indicator_builds_pyrras_measure(
    slo_import, team, indicator, numerator, total, path, group_by
):
    slo_import(_pyrra(indicator))
    slo = SLO.objects.get(name="pyrra-api-errors")
    assert (slo.numerator_query, slo.total_query) == (numerator, total)
    assert (slo.evaluation, slo.group_by) == (path, group_by)


def test_pyrra_alerting_switches_slo_alerts_off(slo_import, team):
    slo_import(_pyrra(RATIO, "\n  alerting:\n    disabled: true"))
    slo = SLO.objects.get()
    assert not slo.page_alerts and not slo.ticket_alerts
    slo_import(_pyrra(RATIO, "\n  alerting:\n    burnrates: true\n    name: PyrraErrors"))
    slo = SLO.objects.get()
    assert slo.page_alerts and slo.alert_labels == {"*": {"alertname": "PyrraErrors"}}


@pytest.mark.parametrize(
    ("document", "where", "reason"),
    [
        (_pyrra(RATIO, target='"0.995"'), "spec.target", "did you mean '99.5'?"),
        (_pyrra(RATIO, target="high"), "spec.target", "'high' is not a percentage"),
        (
            _pyrra(RATIO + "\n    bool_gauge:\n      metric: up"),
            "spec.indicator",
            "give exactly one of ratio, latency, latencyNative, bool_gauge",
        ),
        (
            _pyrra(
                RATIO.replace(
                    'http_requests_total{job="pyrra"}', 'sum(http_requests_total{job="pyrra"})'
                )
            ),
            "spec.indicator.ratio.total.metric",
            "give a metric selector",
        ),
        (
            _pyrra(RATIO).replace("window: 2w", "window: 1w2d"),
            "spec.window",
            "'1w2d' is not a duration",
        ),
        (_pyrra(RATIO).replace("  window:", "  windw:"), "spec.windw", "did you mean window?"),
    ],
    ids=[
        "share as target",
        "text target",
        "two indicators",
        "not a selector",
        "composite window",
        "typo",
    ],
)
def test_what_pyrra_objects_cannot_have_is_refused(tmp_path, team, document, where, reason):
    message = refused(tmp_path, document)
    assert f"(ServiceLevelObjective pyrra-api-errors): {where}: " in message and reason in message


OPENSLO_RAW = """
apiVersion: openslo/v1
kind: SLO
metadata:
  name: wifi-satisfaction
  labels:
    team: payments
    ssops.io/group-by: [site]
spec:
  service: wifi
  indicator:
    metadata:
      name: wifi-client-satisfaction
    spec:
      ratioMetric:
        rawType: success
        raw:
          metricSource:
            type: Prometheus
            spec:
              query: |
                sum by (site) (sum_over_time(poller_client_satisfaction_ratio[{{.window}}]))
                /
                sum by (site) (count_over_time(poller_client_satisfaction_ratio[{{.window}}]))
  timeWindow:
    - duration: 28d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - target: 0.95
"""


def test_an_openslo_raw_ratio_grouped_by_a_label_imports(slo_import, team):
    slo_import(OPENSLO_RAW)
    slo = SLO.objects.get()
    assert (slo.indicator_type, slo.numerator_kind, slo.evaluation) == ("raw", "good", "promql")
    assert slo.group_by == ["site"] and "ssops.io/group-by" not in slo.labels


@pytest.mark.parametrize(
    ("change", "where", "reason"),
    [
        (
            ("{{.window}}", "5m"),
            "spec.indicator.spec.ratioMetric.raw.metricSource.spec.query",
            "needs {{.window}}",
        ),
        (
            ("ssops.io/group-by: [site]", "ssops.io/group-by: [building]"),
            "metadata.labels.ssops.io/group-by",
            "sum by (site)",
        ),
        (
            ("rawType: success", "rawType: good"),
            "spec.indicator.spec.ratioMetric.rawType",
            "'good' is not one of success, failure",
        ),
        (
            ("    - target: 0.95", "    - target: 0.95\n      budget: 1"),
            "spec.objectives[0].budget",
            "is not a field of an OpenSLO objective",
        ),
    ],
    ids=["window elsewhere", "grouping the query sums away", "raw type", "unknown field"],
)
def test_what_an_openslo_sli_cannot_say_is_refused(tmp_path, team, change, where, reason):
    message = refused(tmp_path, OPENSLO_RAW.replace(*change))
    assert f"(SLO wifi-satisfaction): {where}: " in message, message
    assert reason is None or reason in message, message


def test_a_sum_of_counters_takes_the_exact_path(slo_import, team):
    from tests.slo.test_import import slo_yaml

    slo_import(slo_yaml(query="sum(orders_failed_total) + sum(orders_rejected_total)"))
    slo = SLO.objects.get()
    assert slo.evaluation == "exact"
    assert slo.numerator_query == "sum(orders_failed_total) + sum(orders_rejected_total)"


def test_every_shape_file_imports(shape_slos):
    assert set(SLO.objects.values_list("name", flat=True)) == set(shape_documents.SHAPES)


def test_the_api_and_the_page_show_the_path(api_as, client, admin_user, shape_slos):
    api = api_as(admin_user)
    assert api.get("/api/slos/nodes-ready/").json()["evaluation"] == "promql"
    assert api.get("/api/slos/shop-latency/").json()["evaluation"] == "exact"
    listed = api.get("/api/slos/", {"evaluation": "promql", "page_size": 100}).json()["results"]
    promql = {name for name, (_, _, path) in shape_documents.SHAPES.items() if path == "promql"}
    assert {slo["name"] for slo in listed} == promql
    client.force_login(admin_user)
    page = client.get("/slos/nodes-ready/").content.decode()
    assert '<span class="badge">promql</span> Prometheus evaluates the SLI' in page


def test_sloths_alert_windows_are_refused_with_the_reason(tmp_path, team):
    message = refused(
        tmp_path,
        "apiVersion: sloth.slok.dev/v1\nkind: AlertWindows\nspec:\n  sloPeriod: 7d\n",
    )
    assert "kind: 'AlertWindows': SSOps alerts with its own multi-window" in message


def test_time_slices_of_an_sli_prometheus_evaluates_are_refused(tmp_path, team):
    from tests.slo.test_import import slo_yaml

    text = (
        slo_yaml(
            query="sum(increase(orders_failed_total[{{.window}}])) > 0",
            total="sum(increase(orders_total[{{.window}}]))",
        )
        .replace("Occurrences", "Timeslices")
        .replace(
            "target: 0.999", "target: 0.999\n      timeSliceTarget: 0.9\n      timeSliceWindow: 1m"
        )
    )
    message = refused(tmp_path, text)
    assert "spec.budgetingMethod: time slices are counted from counters" in message
