import pytest
from django.core.cache import cache

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_counters():
    cache.clear()
    yield
    cache.clear()


def test_an_api_user_over_the_limit_gets_429_with_retry_after(api_as, alice, settings):
    settings.API_RATE_USER = "3/min"
    api = api_as(alice)
    assert [api.get("/api/teams/").status_code for _ in range(3)] == [200, 200, 200]
    refused = api.get("/api/teams/")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0


def test_each_user_has_their_own_allowance(api_as, alice, bob, settings):
    settings.API_RATE_USER = "1/min"
    assert api_as(alice).get("/api/teams/").status_code == 200
    assert api_as(bob).get("/api/teams/").status_code == 200
