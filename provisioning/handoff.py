"""Provisioning's side of the catalog's hand-off (catalog.signals): each signal enqueues its run
when the catalog's transaction commits (at once when there is none)."""

from __future__ import annotations

from django.db import transaction
from django.dispatch import receiver

from catalog.signals import request_handed_off, request_teardown_due
from provisioning import tasks


@receiver(request_handed_off, dispatch_uid="provisioning-handed-off")
def provision_on_commit(sender, request, **kwargs) -> None:
    request_id = request.pk
    transaction.on_commit(lambda: tasks.provision_request.delay(request_id), robust=True)


@receiver(request_teardown_due, dispatch_uid="provisioning-teardown-due")
def teardown_on_commit(sender, request, **kwargs) -> None:
    request_id = request.pk
    transaction.on_commit(lambda: tasks.deprovision_request.delay(request_id), robust=True)
