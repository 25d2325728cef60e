"""seed_demo fills the catalog: templates at each risk tier, policies, quotas, budgets and a
few requests; running it again changes nothing."""

import pytest
from django.core.management import call_command

from audit.models import AuditEvent
from catalog.models import Budget, Policy, Quota, Request, Template
from provisioning.models import Resource, Runbook, RunbookRun

pytestmark = pytest.mark.django_db


def test_seed_demo_is_complete_and_idempotent():
    call_command("seed_demo")
    assert {t.risk_tier for t in Template.objects.all()} == {"low", "medium", "high"}
    assert Template.objects.filter(tags__contains=" runbook ").exists()
    assert Policy.objects.filter(current_version__mode="dry_run").exists()
    assert sum(q.has_limits for q in Quota.objects.all()) == 5 and Budget.objects.count() == 3
    states = sorted(Request.objects.values_list("state", flat=True))
    assert states == ["denied", "pending_approval", "pending_approval", "ready", "ready"]
    # Approved ones are provisioned during the seed: no cluster, so the manifests are artifacts.
    assert sorted(Resource.objects.values_list("name", flat=True)) == [
        "payments-checkout-v2",
        "search-indexer-v2",
    ]
    assert Runbook.objects.count() == 4
    assert RunbookRun.objects.get().state == "pending_approval"
    events = AuditEvent.objects.count()
    call_command("seed_demo")
    assert AuditEvent.objects.count() == events
    assert Request.objects.count() == 5 and RunbookRun.objects.count() == 1
