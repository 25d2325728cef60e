"""M12: the request page offers its requester a 1–5 rating once the request has finished."""

import pytest
from django.core.exceptions import PermissionDenied

from audit.models import AuditEvent
from metrics.models import SatisfactionRating
from metrics.services import PlatformInvalid, rating_submit
from tests.metrics.conftest import moment

pytestmark = pytest.mark.django_db


@pytest.fixture
def ready(file_request, widget):
    return file_request("widget", at=moment(), ready_after=30)


@pytest.fixture
def waiting(file_request, widget):
    return file_request("widget", at=moment())  # still provisioning


def test_the_requester_rates_a_finished_request_and_may_change_it(ready, bob):
    rating = rating_submit(actor=bob, request=ready, score=4, comment=" fine ")
    assert (rating.score, rating.comment, rating.team_id) == (4, "fine", ready.team_id)
    rating_submit(actor=bob, request=ready, score=5)
    assert SatisfactionRating.objects.get().score == 5
    events = AuditEvent.objects.filter(action="request.rated").order_by("seq")
    assert [e.payload["score"] for e in events] == [4, 5]
    assert events.last().payload["previous_score"] == 4


def test_only_the_requester_rates_only_a_finished_request_from_1_to_5(ready, waiting, bob, alice):
    with pytest.raises(PermissionDenied):
        rating_submit(actor=alice, request=ready, score=5)
    with pytest.raises(PlatformInvalid) as invalid:
        rating_submit(actor=bob, request=waiting, score=5)
    assert "finished" in str(invalid.value)
    for score in (0, 6, "x", None):
        with pytest.raises(PlatformInvalid, match="1 \\(poor\\) to 5"):
            rating_submit(actor=bob, request=ready, score=score)
    assert not SatisfactionRating.objects.exists()


def test_the_request_page_offers_the_form_to_its_requester_once_finished(
    client, ready, waiting, bob, alice
):
    client.force_login(bob)
    page = client.get(f"/requests/{ready.uuid}/").content.decode()
    assert "How did it go?" in page and 'name="score"' in page
    under_way = client.get(f"/requests/{waiting.uuid}/").content.decode()
    assert "How did it go?" not in under_way
    assert f'hx-get="/requests/{waiting.uuid}/rating/"' in under_way  # appears once finished
    client.force_login(alice)  # team admin, not the requester
    assert "How did it go?" not in client.get(f"/requests/{ready.uuid}/").content.decode()


def test_posting_the_form_rates_and_shows_the_rating(client, ready, bob):
    client.force_login(bob)
    response = client.post(
        f"/requests/{ready.uuid}/rating/", {"score": "3", "comment": "approval was slow"}
    )
    assert response.status_code == 302 and response["Location"] == f"/requests/{ready.uuid}/"
    page = client.get(f"/requests/{ready.uuid}/").content.decode()
    assert "3/5" in page and "approval was slow" in page
    assert client.get(f"/requests/{ready.uuid}/rating/").status_code == 200


def test_a_bad_rating_comes_back_as_a_message(client, ready, bob):
    client.force_login(bob)
    client.post(f"/requests/{ready.uuid}/rating/", {"score": "9"})
    page = client.get(f"/requests/{ready.uuid}/").content.decode()
    assert "from 1 (poor) to 5" in page and not SatisfactionRating.objects.exists()


def test_an_outsider_cannot_reach_the_rating_of_another_teams_request(client, ready, charlie):
    client.force_login(charlie)
    assert client.post(f"/requests/{ready.uuid}/rating/", {"score": "1"}).status_code == 404


def test_ratings_through_the_api(api_as, ready, bob, charlie):
    api = api_as(bob)
    created = api.post(
        "/api/ratings/", {"request": str(ready.uuid), "score": 5, "comment": "great"}, format="json"
    )
    assert created.status_code == 201 and created.json()["score"] == 5
    assert api.post("/api/ratings/", {"request": str(ready.uuid), "score": 7}).status_code == 400
    assert [r["score"] for r in api.get("/api/ratings/").json()["results"]] == [5]
    outsider = api_as(charlie)
    assert outsider.get("/api/ratings/").json()["results"] == []
    refused = outsider.post("/api/ratings/", {"request": str(ready.uuid), "score": 1})
    assert refused.status_code == 404
