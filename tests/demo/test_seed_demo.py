import io

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from audit.verify import verify_chain
from teams.models import Team

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_the_demo_users_and_is_safe_to_run_again():
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())
    for username in ("dev", "approver", "oncall", "exec", "admin"):
        assert authenticate(username=username, password="demo"), username
    assert set(Team.objects.values_list("slug", flat=True)) >= {"payments", "search", "platform"}
    report = verify_chain()
    assert report.ok and report.count > 0
