from celery import shared_task

from audit.services import audit_checkpoint_create
from core.jobs import beat_job


@shared_task(name="audit.tasks.checkpoint", ignore_result=True)
@beat_job(lock_seconds=240)
def checkpoint() -> int:
    """Sign the chain head (beat, every five minutes). Safe to run any number of times."""
    return audit_checkpoint_create().size
