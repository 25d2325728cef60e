"""Celery entry points of the catalog: ids in, one service call each."""

from __future__ import annotations

import requests
from celery import shared_task

from catalog.services import approvals_nudge, notifications, requests_expire_due
from core.jobs import beat_job


@shared_task(name="catalog.tasks.expire_requests", ignore_result=True)
@beat_job(lock_seconds=120)
def expire_requests() -> dict:
    """Beat: expire overdue approvals and requests past their TTL. Idempotent."""
    return requests_expire_due()


@shared_task(name="catalog.tasks.nudge_approvals", ignore_result=True)
@beat_job(lock_seconds=120)
def nudge_approvals() -> dict:
    """Beat: remind the approvers of requests waiting for approval, escalate overdue ones and
    resolve the overdue tickets of those decided. Idempotent."""
    return approvals_nudge()


@shared_task(name="catalog.tasks.notify_request", ignore_result=True)
def notify_request(request_id: int, event: str, email: bool) -> int:
    return notifications.request_notify_send(request_id=request_id, event=event, email=email)


@shared_task(
    name="catalog.tasks.deliver_webhook",
    ignore_result=True,
    autoretry_for=(requests.RequestException,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=5,
)
def deliver_webhook(webhook_id: int, request_id: int, event: str, occurred: int) -> int:
    return notifications.webhook_deliver(
        webhook_id=webhook_id, request_id=request_id, event=event, occurred=occurred
    )
