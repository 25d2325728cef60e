"""Fifty concurrent submissions against a quota of ten on PostgreSQL: exactly ten granted."""

import threading

import pytest
from django.db import connection, connections

from audit.verify import verify_chain
from catalog.models import Request, Reservation
from catalog.services import quota_set, request_submit
from tests.catalog.conftest import (
    assert_counters_match_reservations,
    publish,
    template_document,
)
from tests.factories import MembershipFactory, TeamFactory, UserFactory

SUBMITTERS = 50
QUOTA = 10


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_submissions_never_exceed_a_quota_of_ten():
    assert connection.vendor == "postgresql"
    team = TeamFactory(slug="racers")
    users = [
        MembershipFactory(team=team, user=UserFactory(username=f"racer{n}")).user
        for n in range(SUBMITTERS)
    ]
    publish(template_document("widget"))
    quota_set(actor=None, team=team, kind="widget", max_count=QUOTA)
    start = threading.Barrier(SUBMITTERS)
    states: list[str] = []
    errors: list[BaseException] = []

    def submit(user) -> None:
        try:
            start.wait()
            request = request_submit(
                actor=user, template="widget", team="racers", parameters={"name": user.username}
            )
            states.append(request.state)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(states).count("provisioning") == QUOTA
    assert states.count("denied") == SUBMITTERS - QUOTA
    assert Reservation.objects.filter(state="active").count() == QUOTA
    assert Request.objects.filter(state="denied", reservation__isnull=True).count() == 40
    assert_counters_match_reservations()
    assert verify_chain().ok
