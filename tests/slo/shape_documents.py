"""SLO files in each format, written the way the formats' documentation shows them (and the way
people bend them), over the SLI shapes of tests/slo/workload_shapes.py and workload.py.

SHAPES maps each SLO (or grouped definition) to the shape it measures, which the measuring test
recomputes from the generated samples; imported with `--team payments --sloth-period 7d`.
"""

SLOTH = """
# Sloth prometheus/v1, as in its getting-started docs
version: "prometheus/v1"
service: "shop"
labels:
  owner: "payments"
  tier: 2            # a number, taken as text
  critical: true     # a boolean, taken as text
slos:
  # Latency as "all requests minus the fast ones" (the exact path: counter terms).
  - name: "latency"
    objective: 99
    description: "Requests answered within 500ms."
    sli:
      events:
        error_query: |
          (
            sum(rate(http_request_duration_seconds_count{job="shop"}[{{.window}}]))
            -
            sum(rate(http_request_duration_seconds_bucket{job="shop",le="0.5"}[{{.window}}]))
          )
        total_query: sum(rate(http_request_duration_seconds_count{job="shop"}[{{.window}}]))
    alerting:
      name: ShopLatency
      labels:
        category: latency
      annotations:
        runbook: https://runbooks.example/shop-latency
      page_alert:
        labels:
          severity: critical
      ticket_alert:
        labels:
          severity: warning
  # The same per route: by (route) in both queries groups it.
  - name: "latency-by-route"
    objective: 99
    sli:
      events:
        error_query: >-
          sum by (route) (rate(http_request_duration_seconds_count{job="shop"}[{{.window}}]))
          - sum by (route) (rate(http_request_duration_seconds_bucket{job="shop",
          le="0.5"}[{{.window}}]))
        total_query: >-
          sum by (route) (rate(http_request_duration_seconds_count{job="shop"}[{{.window}}]))
    alerting:
      name: ShopRouteLatency
      ticket_alert:
        disable: true
  # Native histogram: Prometheus counts the slow share (the promql path).
  - name: "native"
    objective: 99
    sli:
      events:
        error_query: >-
          histogram_count(sum(rate(shop_request_seconds[{{.window}}])))
          - histogram_fraction(0, 0.5, sum(rate(shop_request_seconds[{{.window}}])))
          * histogram_count(sum(rate(shop_request_seconds[{{.window}}])))
        total_query: histogram_count(sum(rate(shop_request_seconds[{{.window}}])))
---
version: prometheus/v1
service: nodes
labels:
  owner: payments
slos:
  # A gauge counted by a subquery, with `or on() vector(0)` for windows without a bad node.
  - name: ready
    objective: 99
    sli:
      events:
        error_query: sum_over_time((count(node_ready_ratio < 0.75))[{{.window}}:]) or on() vector(0)
        total_query: sum_over_time((count(node_ready_ratio))[{{.window}}:])
---
version: prometheus/v1
service: search
labels:
  owner: payments
slos:
  - name: raw-availability
    objective: 99
    sli:
      raw:
        error_ratio_query: >-
          sum(rate(http_requests_total{service="search",code=~"5.."}[{{.window}}]))
          /
          sum(rate(http_requests_total{service="search"}[{{.window}}]))
---
version: prometheus/v1
service: probes
labels:
  owner: payments
slos:
  - name: availability
    objective: 99
    sli:
      events:
        error_query: >-
          sum(count_over_time(probe_success[{{ .window }}]))
          - sum(sum_over_time(probe_success[{{ .window }}]))
        total_query: sum(count_over_time(probe_success[{{ .window }}]))
"""

SLOTH_K8S = """
apiVersion: sloth.slok.dev/v1
kind: PrometheusServiceLevel
metadata:
  name: shop-clamped
  namespace: monitoring
  labels:
    app.kubernetes.io/part-of: shop
spec:
  service: "shop-k8s"
  labels:
    owner: payments
  slos:
    - name: "latency-clamped"
      objective: 99
      description: "Never below zero errors, even if the counts drift."
      sli:
        events:
          errorQuery: >-
            clamp_min(sum(rate(http_request_duration_seconds_count{job="shop"}[{{.window}}])) -
            sum(rate(http_request_duration_seconds_bucket{job="shop",le="0.5"}[{{.window}}])), 0)
          totalQuery: sum(rate(http_request_duration_seconds_count{job="shop"}[{{.window}}]))
      alerting:
        name: ShopLatencyClamped
        pageAlert:
          labels:
            severity: critical
        ticketAlert:
          disable: true
    - name: "latency-by-route-clamped"
      objective: 99
      sli:
        events:
          errorQuery: >-
            clamp_min(
              sum by (route) (rate(http_request_duration_seconds_count{job="shop"}[{{.window}}]))
              - sum by (route) (rate(http_request_duration_seconds_bucket{job="shop",
                le="0.5"}[{{.window}}])),
              0
            )
          totalQuery: >-
            sum by (route) (rate(http_request_duration_seconds_count{job="shop"}[{{.window}}]))
      alerting:
        name: ShopRouteLatencyClamped
---
apiVersion: sloth.slok.dev/v1
kind: PrometheusServiceLevel
metadata:
  name: platform
spec:
  service: "platform"
  labels:
    owner: payments
  slos:
    - name: "nodes-ready"
      objective: 99
      sli:
        events:
          errorQuery: >-
            sum_over_time((count(node_ready_ratio < 0.75))[{{ .window }}:]) or on() vector(0)
          totalQuery: sum_over_time((count(node_ready_ratio))[{{ .window }}:])
      alerting:
        name: NodesNotReady
    - name: "search-raw"
      objective: 99
      sli:
        raw:
          errorRatioQuery: >-
            sum(rate(http_requests_total{service="search",code=~"5.."}[{{.window}}])) /
            sum(rate(http_requests_total{service="search"}[{{.window}}]))
      alerting:
        name: SearchErrors
    # A raw ratio per route: the native histogram's slow share.
    - name: "native-by-route"
      objective: 99
      sli:
        raw:
          errorRatioQuery: >-
            1 - histogram_fraction(0, 0.5,
            sum by (route) (rate(shop_request_seconds[{{.window}}])))
    - name: "api-probe"
      objective: 99
      sli:
        events:
          errorQuery: >-
            sum(count_over_time(probe_success{target="api"}[{{.window}}]))
            - sum(sum_over_time(probe_success{target="api"}[{{.window}}]))
          totalQuery: sum(count_over_time(probe_success{target="api"}[{{.window}}]))
"""

OPENSLO_ALPHA = """
apiVersion: openslo/v1alpha
kind: SLO
metadata:
  name: shop-fast
  displayName: Fast shop requests
spec:
  service: shop
  description: Requests answered within 500ms, as good over total.
  budgetingMethod: Occurrences
  objectives:
    - ratioMetrics:
        good:
          source: prometheus
          queryType: promql
          query: sum(rate(http_request_duration_seconds_bucket{job="shop",le="0.5"}[{{.window}}]))
        total:
          source: prometheus
          queryType: promql
          query: sum(rate(http_request_duration_seconds_count{job="shop"}[{{.window}}]))
      target: 0.99
  timeWindows:
    - count: 7
      isRolling: true
      unit: Day
---
apiVersion: openslo/v1alpha
kind: SLO
metadata:
  name: nodes-alpha
spec:
  service: nodes
  budgetingMethod: Occurrences
  objectives:
    - displayName: Nodes ready
      ratioMetrics:
        bad:
          source: prometheus
          queryType: promql
          query: sum_over_time((count(node_ready_ratio < 0.75))[{{.window}}:]) or on() vector(0)
        total:
          source: prometheus
          queryType: promql
          query: sum_over_time((count(node_ready_ratio))[{{.window}}:])
      target: 0.99
  timeWindows:
    - count: 7
      isRolling: true
      unit: Day
"""


def _alpha(name: str, service: str, good: str, total: str) -> str:
    return f"""
apiVersion: openslo/v1alpha
kind: SLO
metadata:
  name: {name}
spec:
  service: {service}
  budgetingMethod: Occurrences
  objectives:
    - ratioMetrics:
        good:
          source: prometheus
          queryType: promql
          query: >-
            {good}
        total:
          source: prometheus
          queryType: promql
          query: >-
            {total}
      target: 0.99
  timeWindows:
    - count: 7
      unit: Day
"""


NATIVE_RATE = "sum(rate(shop_request_seconds[{{.window}}]))"
OPENSLO_ALPHA += "---".join(
    [
        "",
        _alpha(
            "native-alpha",
            "shop",
            f"histogram_fraction(0, 0.5, {NATIVE_RATE})"
            f"\n            * histogram_count({NATIVE_RATE})",
            f"histogram_count({NATIVE_RATE})",
        ),
        _alpha(
            "probes-alpha",
            "probes",
            "sum(sum_over_time(probe_success[{{.window}}]))",
            "sum(count_over_time(probe_success[{{.window}}]))",
        ),
        _alpha(
            "routes-alpha",
            "shop",
            'sum by (route) (rate(http_request_duration_seconds_bucket{job="shop",le="0.5"}'
            "\n            [{{.window}}]))",
            'sum by (route) (rate(http_request_duration_seconds_count{job="shop"}'
            "\n            [{{.window}}]))",
        ),
    ]
)


def _openslo(name, service, indicator, labels="", annotations=""):
    return f"""
apiVersion: openslo/v1
kind: SLO
metadata:
  name: {name}{labels}{annotations}
spec:
  service: {service}
  indicator:
    metadata:
      name: {name}-sli
      displayName: The SLI of {name}
    spec:
{indicator}
  timeWindow:
    - duration: 7d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - displayName: Good
      op: gt
      target: 0.99
"""


OPENSLO = "---".join(
    [
        _openslo(
            "shop-latency-openslo",
            "shop",
            """      ratioMetric:
        counter: true
        bad:
          metricSource:
            type: Prometheus
            spec:
              query: >-
                sum(rate(http_request_duration_seconds_count{job="shop"}[{{.window}}])) -
                sum(rate(http_request_duration_seconds_bucket{job="shop",le="0.5"}[{{.window}}]))
        total:
          metricSource:
            type: Prometheus
            spec:
              query: sum(http_request_duration_seconds_count{job="shop"})""",
            annotations="\n  annotations:\n    example.com/owner-chat: '#shop'",
        ),
        _openslo(
            "shop-latency-by-route-openslo",
            "shop",
            """      ratioMetric:
        counter: true
        good:
          metricSource:
            type: Prometheus
            spec:
              query: http_request_duration_seconds_bucket{job="shop",le="0.5"}
        total:
          metricSource:
            type: Prometheus
            spec:
              query: http_request_duration_seconds_count{job="shop"}""",
            labels="\n  labels:\n    ssops.io/group-by: route",
        ),
        _openslo(
            "nodes-ready-openslo",
            "nodes",
            """      ratioMetric:
        counter: false
        bad:
          metricSource:
            type: Prometheus
            spec:
              query: |
                sum_over_time((count(node_ready_ratio < 0.75))[{{.window}}:])
                or on() vector(0)
        total:
          metricSource:
            type: Prometheus
            spec:
              query: sum_over_time((count(node_ready_ratio))[{{.window}}:])""",
        ),
        _openslo(
            "search-raw-openslo",
            "search",
            """      ratioMetric:
        rawType: failure
        raw:
          metricSource:
            type: Prometheus
            spec:
              query: >-
                sum(rate(http_requests_total{service="search",code=~"5.."}[{{.window}}])) /
                sum(rate(http_requests_total{service="search"}[{{.window}}]))""",
        ),
        _openslo(
            "probe-web-raw-openslo",
            "probes",
            """      ratioMetric:
        rawType: success
        raw:
          metricSource:
            type: Prometheus
            spec:
              query: |
                sum(sum_over_time(probe_success{target="web"}[{{.window}}]))
                /
                sum(count_over_time(probe_success{target="web"}[{{.window}}]))""",
        ),
        _openslo(
            "native-openslo",
            "shop",
            """      ratioMetric:
        rawType: success
        raw:
          metricSource:
            type: Prometheus
            spec:
              query: histogram_fraction(0, 0.5, sum(rate(shop_request_seconds[{{.window}}])))""",
        ),
    ]
)


def _pyrra(name, indicator, labels="", alerting=""):
    return f"""
apiVersion: pyrra.dev/v1alpha1
kind: ServiceLevelObjective
metadata:
  name: {name}
  namespace: monitoring
  labels:
    prometheus: k8s
    role: alert-rules
    team: payments{labels}
spec:
  target: "99"
  window: 7d
  description: Measured by Pyrra's {name}.
  indicator:
{indicator}{alerting}
"""


PYRRA = "---".join(
    [
        _pyrra(
            "shop-latency-pyrra",
            """    latency:
      success:
        metric: http_request_duration_seconds_bucket{job="shop",le="0.5"}
      total:
        metric: http_request_duration_seconds_count{job="shop"}""",
            labels="\n    service: shop",
        ),
        _pyrra(
            "shop-latency-by-route-pyrra",
            """    latency:
      success:
        metric: http_request_duration_seconds_bucket{job="shop",le="0.5"}
      total:
        metric: http_request_duration_seconds_count{job="shop"}
      grouping:
        - route""",
            labels="\n    service: shop",
            alerting="\n  alerting:\n    name: ShopRouteSlow\n    absent: false",
        ),
        _pyrra(
            "shop-native-pyrra",
            """    latencyNative:
      latency: 500ms
      total:
        metric: shop_request_seconds{job="shop"}""",
            labels="\n    service: shop",
        ),
        _pyrra(
            "shop-native-by-route-pyrra",
            """    latencyNative:
      latency: 500ms
      total:
        metric: shop_request_seconds{job="shop"}
      grouping: [route]""",
            labels="\n    service: shop",
        ),
        _pyrra(
            "probes-pyrra",
            """    bool_gauge:
      metric: probe_success
      grouping:
        - target""",
        ),
        _pyrra(
            "probe-api-pyrra",
            """    bool_gauge:
      metric: probe_success{target="api"}""",
            labels="\n    service: probes",
        ),
        _pyrra(
            "checkout-by-instance-pyrra",
            """    ratio:
      errors:
        metric: http_requests_total{service="checkout",code="500"}
      total:
        metric: http_requests_total{service="checkout"}
      grouping:
        - instance""",
            labels="\n    service: checkout",
        ),
    ]
)

FILES = {
    "sloth.yaml": SLOTH,
    "sloth-k8s.yaml": SLOTH_K8S,
    "openslo-v1alpha.yaml": OPENSLO_ALPHA,
    "openslo.yaml": OPENSLO,
    "pyrra.yaml": PYRRA,
}

# SLO (definition) name → (shape, selection within the shape, evaluation path).
SHAPES = {
    "shop-latency": ("latency", {}, "exact"),
    "shop-k8s-latency-clamped": ("latency", {}, "promql"),
    "shop-shop-fast-0": ("latency", {}, "exact"),
    "shop-latency-openslo": ("latency", {}, "exact"),
    "shop-latency-pyrra": ("latency", {}, "exact"),
    "shop-latency-by-route": ("latency", {"by": "route"}, "exact"),
    "shop-k8s-latency-by-route-clamped": ("latency", {"by": "route"}, "promql"),
    "shop-latency-by-route-openslo": ("latency", {"by": "route"}, "exact"),
    "shop-latency-by-route-pyrra": ("latency", {"by": "route"}, "exact"),
    "nodes-ready": ("nodes", {}, "promql"),
    "platform-nodes-ready": ("nodes", {}, "promql"),
    "nodes-nodes-alpha-0": ("nodes", {}, "promql"),
    "nodes-ready-openslo": ("nodes", {}, "promql"),
    "search-raw-availability": ("search_errors", {}, "promql"),
    "platform-search-raw": ("search_errors", {}, "promql"),
    "search-raw-openslo": ("search_errors", {}, "promql"),
    "probe-web-raw-openslo": ("probes", {"target": "web"}, "promql"),
    "probes-availability": ("probes", {}, "promql"),
    "probes-pyrra": ("probes", {"by": "target"}, "promql"),
    "probe-api-pyrra": ("probes", {"target": "api"}, "promql"),
    "shop-native": ("native", {}, "promql"),
    "shop-native-pyrra": ("native", {}, "promql"),
    "shop-native-by-route-pyrra": ("native", {"by": "route"}, "promql"),
    "checkout-by-instance-pyrra": ("checkout_errors", {"by": "instance"}, "exact"),
    "platform-native-by-route": ("native", {"by": "route"}, "promql"),
    "platform-api-probe": ("probes", {"target": "api"}, "promql"),
    "shop-native-alpha-0": ("native", {}, "promql"),
    "probes-probes-alpha-0": ("probes", {}, "promql"),
    "shop-routes-alpha-0": ("latency", {"by": "route"}, "exact"),
    "native-openslo": ("native", {}, "promql"),
}
