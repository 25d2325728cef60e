from celery import shared_task

from accounts.services import expiry_warnings_send
from core.jobs import beat_job


@shared_task(name="accounts.tasks.token_expiry_warnings", ignore_result=True)
@beat_job(lock_seconds=600)
def token_expiry_warnings() -> int:
    """Warn token owners before expiry (beat, hourly); once per threshold, so safe to repeat."""
    return expiry_warnings_send()
