"""Resources after provisioning: expiry deletes them and gives the quota back, owners extend
within the template's maximum or delete, warnings go out before expiry, access ends on time."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from audit.models import AuditEvent
from catalog.models import Quota, Request, Reservation
from catalog.services import RequestInvalid, TransitionNotAllowed, requests_expire_due
from provisioning.models import Resource
from provisioning.services import resource_delete, resource_extend
from provisioning.services.resources import expiry_warnings_send, grants_revoke_due
from tests.catalog.conftest import assert_counters_match_reservations
from tests.provisioning.conftest import grant_step, namespace_step

pytestmark = pytest.mark.django_db


@pytest.fixture
def ready(provision, engine_template):
    engine_template(grant_step(), namespace_step(), ttl={"default": "1d", "maximum": "3d"})
    request = provision()
    assert request.state == "ready"
    return request


def test_expiry_runs_the_delete_steps_and_releases_the_quota(ready, on_commit, bob):
    assert Quota.objects.get(kind="engine").used_count == 1
    later = ready.expires_at + dt.timedelta(minutes=1)
    with on_commit():
        counts = requests_expire_due(now=later)
    assert counts["ttl_reached"] == 1
    ready.refresh_from_db()
    assert ready.state == "deleted"
    teardown = ready.runs.get(kind="teardown")
    assert teardown.state == "succeeded"
    # Newest first: the namespace, then the grant.
    assert [(s.action, s.operation, s.state) for s in teardown.steps.order_by("position")] == [
        ("kubernetes.namespace", "delete", "succeeded"),
        ("access.grant", "delete", "succeeded"),
    ]
    assert set(Resource.objects.values_list("state", flat=True)) == {"deleted"}
    assert not bob.groups.filter(name__startswith="elevated:").exists()
    assert Reservation.objects.get(request=ready).state == "released"
    assert Quota.objects.get(kind="engine").used_count == 0
    assert_counters_match_reservations()
    assert list(ready.transitions.values_list("to_state", flat=True))[-2:] == [
        "expired",
        "deleted",
    ]


def test_owners_extend_within_the_template_maximum(ready, alice, charlie):
    resource = Resource.objects.get(kind="kubernetes.namespace")
    before = ready.expires_at
    resource_extend(actor=alice, resource=resource, hours=24)
    ready.refresh_from_db()
    assert ready.expires_at == before + dt.timedelta(hours=24)
    assert set(Resource.objects.values_list("expires_at", flat=True)) == {ready.expires_at}
    assert AuditEvent.objects.filter(action="request.extended", actor_id=alice.pk).count() == 1
    with pytest.raises(RequestInvalid) as refused:
        resource_extend(actor=alice, resource=resource, hours=48)
    assert "allows resources until" in refused.value.errors["hours"][0]
    ready.refresh_from_db()
    assert ready.expires_at == before + dt.timedelta(hours=24)  # nothing changed
    with pytest.raises(PermissionDenied):
        resource_extend(actor=charlie, resource=resource, hours=1)
    with pytest.raises(RequestInvalid):
        resource_extend(actor=alice, resource=resource, hours=0)


def test_an_owner_deletes_everything_the_request_made(ready, alice, on_commit, charlie):
    resource = Resource.objects.get(kind="access.grant")
    with pytest.raises(PermissionDenied):
        resource_delete(actor=charlie, resource=resource)
    with on_commit():
        run = resource_delete(actor=alice, resource=resource)
    run.refresh_from_db()
    assert run.kind == "teardown" and run.state == "succeeded" and run.actor == alice
    ready.refresh_from_db()
    assert ready.state == "deleted"
    assert Reservation.objects.get(request=ready).state == "released"
    with pytest.raises(TransitionNotAllowed):
        resource_extend(actor=alice, resource=resource, hours=1)


def test_warnings_go_out_before_expiry_once_per_threshold(ready, mailoutbox, on_commit, settings):
    settings.EXPIRY_WARNING_HOURS = [72, 24]
    mailoutbox.clear()  # the "ready" mail
    with on_commit():
        assert expiry_warnings_send(now=ready.expires_at - dt.timedelta(hours=30)) == 1
        assert expiry_warnings_send(now=ready.expires_at - dt.timedelta(hours=29)) == 0
        assert expiry_warnings_send(now=ready.expires_at - dt.timedelta(hours=20)) == 1
    subjects = [m.subject for m in mailoutbox]
    assert subjects == ["[SSOps] Your request engine 1.0.0 is expiring"] * 2
    assert "unless an owner extends them" in mailoutbox[0].body
    assert set(map(tuple, Resource.objects.values_list("warnings_sent", flat=True))) == {(72, 24)}


def test_access_is_revoked_on_time_by_the_beat_job(ready, bob):
    grant = Resource.objects.get(kind="access.grant")
    assert bob.groups.filter(name="elevated:payments-db:read").exists()
    assert grants_revoke_due(now=grant.expires_at - dt.timedelta(seconds=1)) == 0
    assert grants_revoke_due(now=grant.expires_at + dt.timedelta(seconds=1)) == 1
    assert not bob.groups.filter(name="elevated:payments-db:read").exists()
    assert AuditEvent.objects.filter(action="resource.access_revoked").count() == 1
    assert grants_revoke_due(now=grant.expires_at + dt.timedelta(minutes=1)) == 0


def test_a_grant_still_held_by_another_request_survives_a_revocation(
    provision, engine_template, bob
):
    engine_template(grant_step())
    first, second = provision(), provision()
    grant = Resource.objects.get(request=first)
    Resource.objects.filter(pk=grant.pk).update(expires_at=timezone.now())
    grants_revoke_due(now=timezone.now() + dt.timedelta(seconds=1))
    assert bob.groups.filter(name="elevated:payments-db:read").exists()
    assert Request.objects.get(pk=second.pk).state == "ready"
