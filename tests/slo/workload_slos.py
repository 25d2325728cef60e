"""The SLOs that watch the synthetic workload (tests/slo/workload.py), in OpenSLO and Sloth.

Kept apart from the workload so that editing them does not rebuild the cached TSDB blocks.
"""

OPENSLO = """
apiVersion: openslo/v1
kind: DataSource
metadata:
  name: test-prometheus
spec:
  type: Prometheus
  connectionDetails:
    - url: ""
---
apiVersion: openslo/v1
kind: Service
metadata:
  name: checkout
  labels:
    team: payments
spec:
  description: Takes the money
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: checkout-availability
  labels:
    team: payments
spec:
  service: checkout
  indicator:
    metadata:
      name: checkout-errors
    spec:
      ratioMetric:
        counter: true
        bad:
          metricSource:
            type: Prometheus
            spec:
              query: sum(http_requests_total{service="checkout",code=~"5.."})
        total:
          metricSource:
            type: Prometheus
            spec:
              query: sum(http_requests_total{service="checkout"})
  timeWindow:
    - duration: 30d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - target: 0.999
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: checkout-instance-b
spec:
  service: checkout
  indicator:
    metadata:
      name: checkout-b-good
    spec:
      ratioMetric:
        counter: true
        good:
          metricSource:
            type: Prometheus
            spec:
              query: http_requests_total{service="checkout",instance="b",code="200"}
        total:
          metricSource:
            type: Prometheus
            spec:
              query: http_requests_total{service="checkout",instance="b"}
  timeWindow:
    - duration: 28d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - target: 0.999
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: catalog-availability
spec:
  service: catalog
  indicator:
    metadata:
      name: catalog-good
    spec:
      ratioMetric:
        counter: true
        good:
          metricSource:
            metricSourceRef: test-prometheus
            type: Prometheus
            spec:
              query: sum(http_requests_total{service="catalog",code!~"5.."})
        total:
          metricSource:
            metricSourceRef: test-prometheus
            type: Prometheus
            spec:
              query: sum(http_requests_total{service="catalog"})
  timeWindow:
    - duration: 7d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - target: 0.99
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: ledger-availability
spec:
  service: ledger
  indicator:
    metadata:
      name: ledger-errors
    spec:
      ratioMetric:
        counter: true
        bad:
          metricSource:
            type: Prometheus
            spec:
              query: http_requests_total{service="ledger",code="500"}
        total:
          metricSource:
            type: Prometheus
            spec:
              query: http_requests_total{service="ledger"}
  timeWindow:
    - duration: 1w
      isRolling: false
      calendar:
        startTime: "2025-12-01 00:00:00"
        timeZone: America/New_York
  budgetingMethod: Occurrences
  objectives:
    - target: 0.999
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: archive-availability
spec:
  service: archive
  indicator:
    metadata:
      name: archive-errors
    spec:
      ratioMetric:
        counter: true
        bad:
          metricSource:
            type: Prometheus
            spec:
              query: http_requests_total{service="archive",code="500"}
        total:
          metricSource:
            type: Prometheus
            spec:
              query: http_requests_total{service="archive"}
  timeWindow:
    - duration: 30d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - target: 0.999
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: ghost-availability
spec:
  service: ghost
  indicator:
    metadata:
      name: ghost-errors
    spec:
      ratioMetric:
        counter: true
        bad:
          metricSource:
            type: Prometheus
            spec:
              query: ghost_requests_total{code="500"}
        total:
          metricSource:
            type: Prometheus
            spec:
              query: ghost_requests_total
  timeWindow:
    - duration: 30d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - target: 0.999
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: checkout-minutes
spec:
  service: checkout
  indicator:
    metadata:
      name: checkout-minutes-good
    spec:
      ratioMetric:
        counter: true
        good:
          metricSource:
            type: Prometheus
            spec:
              query: sum(http_requests_total{service="checkout",code="200"})
        total:
          metricSource:
            type: Prometheus
            spec:
              query: sum(http_requests_total{service="checkout"})
  timeWindow:
    - duration: 1d
      isRolling: true
  budgetingMethod: Timeslices
  objectives:
    - target: 0.99
      timeSliceTarget: 0.995
      timeSliceWindow: 1m
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: search-ratio-slices
spec:
  service: search
  indicator:
    metadata:
      name: search-errors-slices
    spec:
      ratioMetric:
        counter: true
        bad:
          metricSource:
            type: Prometheus
            spec:
              query: http_requests_total{service="search",code="500"}
        total:
          metricSource:
            type: Prometheus
            spec:
              query: http_requests_total{service="search"}
  timeWindow:
    - duration: 7d
      isRolling: true
  budgetingMethod: RatioTimeslices
  objectives:
    - target: 0.995
      timeSliceWindow: 5m
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: search-latency
spec:
  service: search
  indicator:
    metadata:
      name: search-p99
    spec:
      thresholdMetric:
        metricSource:
          type: Prometheus
          spec:
            query: max(http_request_latency_p99_seconds{service="search"})
  timeWindow:
    - duration: 7d
      isRolling: true
  budgetingMethod: Timeslices
  objectives:
    - op: lt
      value: 0.5
      target: 0.95
      timeSliceWindow: 5m
"""

SLOTH = """
version: prometheus/v1
service: search
labels:
  team: search
slos:
  - name: availability
    objective: 99.9
    description: Search answers without server errors.
    sli:
      events:
        error_query: sum(rate(http_requests_total{service="search",code=~"(5..|429)"}[{{.window}}]))
        total_query: sum(rate(http_requests_total{service="search"}[{{.window}}]))
    alerting:
      name: SearchAvailability
      annotations:
        runbook: https://runbooks.example/search
"""
