"""What Django itself does is audited: admin edits, logins, logouts."""

import pytest

from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_an_admin_edit_is_audited_with_the_change(client, team):
    from django.contrib.auth import get_user_model

    root = get_user_model().objects.create_superuser("root", "root@example.test", "pw-for-tests")
    client.force_login(root)
    response = client.post(
        f"/admin/teams/team/{team.pk}/change/",
        {
            "slug": "payments",
            "name": "Payments & Billing",
            "cost_center": "CC-PAY",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="admin.changed")
    assert event.actor_name == "root" and event.object_type == "teams.team"
    assert "Changed Name" in str(event.payload["change"])


def test_logout_is_audited(client, alice):
    client.force_login(alice)
    client.post("/accounts/logout/")
    assert AuditEvent.objects.filter(action="auth.logout", actor_name="alice").exists()
