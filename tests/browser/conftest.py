"""What the browser tests share: a page signed in as a user."""

from __future__ import annotations

import pytest
from django.test import Client


@pytest.fixture
def open_as(live_server, page_factory):
    """A page signed in as `user` (the session cookie of a forced login)."""

    def sign_in(user, **options):
        client = Client()
        client.force_login(user)
        page = page_factory(**options)
        cookie = client.cookies["sessionid"].value
        page.context.add_cookies([{"name": "sessionid", "value": cookie, "url": live_server.url}])
        return page

    return sign_in
