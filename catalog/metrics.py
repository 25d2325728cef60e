"""The catalog's Prometheus metrics (prefix ssops_), served by /metrics with the others."""

from prometheus_client import Counter, Histogram

REQUEST_TRANSITIONS = Counter(
    "ssops_catalog_request_transitions_total",
    "Catalog request transitions, by the state entered.",
    ["to_state"],
)
POLICY_DECISIONS = Counter(
    "ssops_policy_decisions_total",
    "Policy decisions, by policy, mode and outcome (allow, deny, error).",
    ["policy", "mode", "outcome"],
)
POLICY_SECONDS = Histogram(
    "ssops_policy_evaluation_seconds",
    "Time to evaluate one policy for one request.",
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1),
)
PROVISION_SECONDS = Histogram(
    "ssops_provision_duration_seconds",
    "Time from the start of a provisioning run to its end, by template and outcome.",
    ["template", "outcome"],
    buckets=(0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800),
)
PROVISION_TOTAL = Counter(
    "ssops_provision_total",
    "Provisioning runs that ended, by template and outcome (ready, failed, rolled_back, "
    "cancelled).",
    ["template", "outcome"],
)
