"""The Celery app and the whole beat schedule (the one place it is kept)."""

from __future__ import annotations

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ssops_site.settings")

app = Celery("ssops")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Every job is idempotent and expires before its next run, so a backlog never piles up; each
# task takes a lock so that a second beat cannot run it twice, and records its runs
# (core.jobs.beat_job).
app.conf.beat_schedule = {
    "audit-checkpoint": {
        "task": "audit.tasks.checkpoint",
        "schedule": crontab(minute="*/5"),
        "options": {"expires": 240},
    },
    # API tokens: warn owners before their tokens expire.
    "accounts-token-expiry-warnings": {
        "task": "accounts.tasks.token_expiry_warnings",
        "schedule": crontab(minute=41),
        "options": {"expires": 3000},
    },
    "catalog-expire-requests": {
        "task": "catalog.tasks.expire_requests",
        "schedule": crontab(minute="*"),
        "options": {"expires": 50},
    },
    "catalog-nudge-approvals": {
        "task": "catalog.tasks.nudge_approvals",
        "schedule": crontab(minute="*"),
        "options": {"expires": 50},
    },
    # Provisioning: access revoked on time, expiry warnings, stalled runs resumed; orphans.
    "provisioning-resource-lifecycle": {
        "task": "provisioning.tasks.resource_lifecycle",
        "schedule": crontab(minute="*"),
        "options": {"expires": 50},
    },
    "provisioning-orphan-scan": {
        "task": "provisioning.tasks.orphan_scan",
        "schedule": crontab(minute=23),
        "options": {"expires": 3000},
    },
    "provisioning-drift-scan": {
        "task": "provisioning.tasks.drift_scan",
        "schedule": crontab(minute=43),
        "options": {"expires": 3000},
    },
    "slo-evaluate": {
        "task": "slo.tasks.evaluate",
        "schedule": crontab(),
        "options": {"expires": 50},
    },
    "slo-deliver-alerts": {
        "task": "slo.tasks.deliver_alerts",
        "schedule": crontab(),
        "options": {"expires": 50},
    },
    "slo-sync-silences": {
        "task": "slo.tasks.sync_silences",
        "schedule": crontab(minute="*/5"),
        "options": {"expires": 240},
    },
    "slo-prune-history": {
        "task": "slo.tasks.prune_history",
        "schedule": crontab(minute=17, hour=3),
        "options": {"expires": 3600},
    },
    # Platform metrics (M1–M12), the catalog probe (M3), budgets and audit completeness (M11).
    "metrics-probe-catalog": {
        "task": "metrics.tasks.probe_catalog",
        "schedule": crontab(),
        "options": {"expires": 50},
    },
    "metrics-platform-metrics": {
        "task": "metrics.tasks.platform_metrics",
        "schedule": crontab(minute="*/10"),
        "options": {"expires": 540},
    },
    "metrics-audit-completeness": {
        "task": "metrics.tasks.audit_completeness",
        "schedule": crontab(minute=7),
        "options": {"expires": 3000},
    },
    "metrics-unexpected-actors": {
        "task": "metrics.tasks.unexpected_actors",
        "schedule": crontab(minute="*/5"),
        "options": {"expires": 240},
    },
    "metrics-budget-burn": {
        "task": "metrics.tasks.budget_burn",
        "schedule": crontab(minute=13),
        "options": {"expires": 3000},
    },
    "metrics-policy-deny-spikes": {
        "task": "metrics.tasks.policy_deny_spikes",
        "schedule": crontab(minute="*/5"),
        "options": {"expires": 240},
    },
    "metrics-prune-platform-records": {
        "task": "metrics.tasks.prune_platform_records",
        "schedule": crontab(minute=37, hour=3),
        "options": {"expires": 3600},
    },
}
