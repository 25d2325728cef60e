"""Writes of the SLO app, each atomic and audited (see the modules for details)."""

from slo.services.alerts import alert_deliveries_send, alert_payload
from slo.services.definitions import (
    ImportReport,
    save_audited,
    slo_delete,
    slo_import_file,
    slo_import_text,
    slo_save,
)
from slo.services.evaluation import (
    UnknownSLO,
    slo_batches,
    slo_evaluate,
    slo_evaluation_record,
    slo_history_prune,
    slos_for_evaluation,
)
from slo.services.freezes import freeze_override_create, freeze_override_end
from slo.services.maintenance import adjustment_create, adjustment_delete, silences_sync
from slo.services.platform_alerts import (
    platform_alert_raise,
    platform_alert_resolve,
    platform_alerts_firing,
    platform_alerts_refresh,
)

__all__ = [
    "adjustment_create",
    "adjustment_delete",
    "freeze_override_create",
    "freeze_override_end",
    "silences_sync",
    "ImportReport",
    "UnknownSLO",
    "alert_deliveries_send",
    "alert_payload",
    "platform_alert_raise",
    "platform_alert_resolve",
    "platform_alerts_firing",
    "platform_alerts_refresh",
    "save_audited",
    "slo_delete",
    "slo_evaluate",
    "slo_batches",
    "slo_evaluation_record",
    "slo_history_prune",
    "slo_import_file",
    "slo_import_text",
    "slo_save",
    "slos_for_evaluation",
]
