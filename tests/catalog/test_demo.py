"""seed_demo fills the catalog: templates at each risk tier, policies, quotas, budgets and a
few requests; running it again changes nothing."""

import pytest
from django.core.management import call_command

from audit.models import AuditEvent
from catalog.models import Budget, Policy, Quota, Request, Template

pytestmark = pytest.mark.django_db


def test_seed_demo_is_complete_and_idempotent():
    call_command("seed_demo")
    assert {t.risk_tier for t in Template.objects.all()} == {"low", "medium", "high"}
    assert Template.objects.filter(tags__contains=" runbook ").exists()
    assert Policy.objects.filter(current_version__mode="dry_run").exists()
    assert sum(q.has_limits for q in Quota.objects.all()) == 5 and Budget.objects.count() == 3
    states = sorted(Request.objects.values_list("state", flat=True))
    assert states == ["denied", "pending_approval", "pending_approval", "provisioning"]
    events = AuditEvent.objects.count()
    call_command("seed_demo")
    assert AuditEvent.objects.count() == events
    assert Request.objects.count() == 4
