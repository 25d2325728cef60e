"""Audited writes of provisioning (one module per concern, re-exported here): runs and their
steps, resources and their lifecycle, runbooks and their runs, the orphan scan.

Every function is atomic, records its audit event in the same transaction, takes the acting
user as `actor=` and sends side effects (tasks, e-mail, webhooks) only on commit.
"""

from provisioning.services.resources import (
    SecretGone,
    resource_delete,
    resource_extend,
    resources_lifecycle_sweep,
    secret_reveal,
)
from provisioning.services.runbooks import (
    runbook_publish,
    runbook_run_approve,
    runbook_run_reject,
    runbook_run_start,
)
from provisioning.services.runs import run_cancel, run_start_provision, run_start_teardown

__all__ = [
    "SecretGone",
    "resource_delete",
    "resource_extend",
    "resources_lifecycle_sweep",
    "run_cancel",
    "run_start_provision",
    "run_start_teardown",
    "runbook_publish",
    "runbook_run_approve",
    "runbook_run_reject",
    "runbook_run_start",
    "secret_reveal",
]
