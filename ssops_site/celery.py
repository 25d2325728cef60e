"""The Celery app and the whole beat schedule (the one place it is kept)."""

from __future__ import annotations

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ssops_site.settings")

app = Celery("ssops")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Every job is idempotent and expires before its next run, so a backlog never piles up.
app.conf.beat_schedule = {
    "audit-checkpoint": {
        "task": "audit.tasks.checkpoint",
        "schedule": crontab(minute="*/5"),
        "options": {"expires": 240},
    },
    "catalog-expire-requests": {
        "task": "catalog.tasks.expire_requests",
        "schedule": crontab(minute="*"),
        "options": {"expires": 50},
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
    "slo-prune-history": {
        "task": "slo.tasks.prune_history",
        "schedule": crontab(minute=17, hour=3),
        "options": {"expires": 3600},
    },
}
