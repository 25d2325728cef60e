from slo.models.openslo import (
    AlertCondition,
    AlertNotificationTarget,
    AlertPolicy,
    DataSource,
    Service,
)
from slo.models.platform import (
    AuditGap,
    BillingImport,
    BillingRow,
    BudgetAlert,
    Incident,
    MetricSnapshot,
    OncallAction,
    ProbeResult,
    SatisfactionRating,
)
from slo.models.runtime import AlertDelivery, AlertEvent, AlertState, Snapshot
from slo.models.slos import SLO, Indicator

__all__ = [
    "SLO",
    "AlertCondition",
    "AlertDelivery",
    "AlertEvent",
    "AlertNotificationTarget",
    "AlertPolicy",
    "AlertState",
    "AuditGap",
    "BillingImport",
    "BillingRow",
    "BudgetAlert",
    "DataSource",
    "Incident",
    "Indicator",
    "MetricSnapshot",
    "OncallAction",
    "ProbeResult",
    "SatisfactionRating",
    "Service",
    "Snapshot",
]
