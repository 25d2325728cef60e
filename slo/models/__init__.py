from slo.models.freezes import FreezeOverride
from slo.models.maintenance import BudgetAdjustment, MaintenanceSilence
from slo.models.openslo import (
    AlertCondition,
    AlertNotificationTarget,
    AlertPolicy,
    DataSource,
    Service,
)
from slo.models.runtime import AlertDelivery, AlertEvent, AlertState, PlatformAlert, Snapshot
from slo.models.slos import SLO, Indicator

__all__ = [
    "SLO",
    "AlertCondition",
    "AlertDelivery",
    "AlertEvent",
    "AlertNotificationTarget",
    "AlertPolicy",
    "AlertState",
    "BudgetAdjustment",
    "DataSource",
    "FreezeOverride",
    "Indicator",
    "PlatformAlert",
    "MaintenanceSilence",
    "Service",
    "Snapshot",
]
