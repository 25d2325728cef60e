"""Demo data for `seed_demo` (idempotent): teams and users; the catalog's templates, policies
and runbooks (catalog/definitions/), quotas and budgets; a few requests to look at, the
approved ones provisioned at once (no cluster in the demo: the namespaces' manifests are their
runs' artifacts), so resources are there to browse; and a runbook run waiting for approval."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from audit.services import audit_record
from catalog.choices import RequestState
from catalog.importer import catalog_import
from catalog.models import Request, TemplateVersion
from catalog.services import (
    budget_set,
    membership_set,
    quota_set,
    request_submit,
    team_create,
    template_version_deprecate,
)
from provisioning.choices import StepState
from provisioning.services import run_start_provision, runbook_run_start
from teams.choices import PlatformGroup, TeamRole
from teams.models import Team

DEMO_PASSWORD = "demo"  # noqa: S105  (documented demo logins, created only by seed_demo)

TEAMS = [
    ("payments", "Payments", "CC-1001"),
    ("search", "Search", "CC-1002"),
    ("platform", "Platform", "CC-1000"),
]
# username, platform groups, superuser, [(team, role)]
USERS = [
    ("dev", [], False, [("payments", TeamRole.MEMBER), ("search", TeamRole.MEMBER)]),
    ("approver", [], False, [("payments", TeamRole.APPROVER), ("search", TeamRole.APPROVER)]),
    ("oncall", [PlatformGroup.ONCALL], False, [("platform", TeamRole.MEMBER)]),
    ("exec", [PlatformGroup.EXECUTIVE], False, []),
    ("admin", [PlatformGroup.ADMIN], True, [("platform", TeamRole.ADMIN)]),
]


def seed(stdout=None) -> None:
    User = get_user_model()
    with transaction.atomic():
        admin = User.objects.filter(username="admin").first()
        teams = {}
        for slug, name, cost_center in TEAMS:
            team = Team.objects.filter(slug=slug).first()
            teams[slug] = team or team_create(
                actor=admin, slug=slug, name=name, cost_center=cost_center
            )
        for group in PlatformGroup.ALL:
            Group.objects.get_or_create(name=group)
        for username, groups, superuser, memberships in USERS:
            user, created = User.objects.get_or_create(
                username=username, defaults={"email": f"{username}@ssops.demo"}
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.is_staff = user.is_superuser = superuser
                user.save()
                user.groups.set(Group.objects.filter(name__in=groups))
                audit_record(
                    action="user.created",
                    actor=admin,
                    obj=user,
                    payload={"username": username, "groups": groups, "superuser": superuser},
                )
            for slug, role in memberships:
                membership_set(actor=admin or user, team=teams[slug], user=user, role=role)
        _seed_catalog(admin=User.objects.get(username="admin"), stdout=stdout)
    if stdout:
        stdout.write(f"demo users: {', '.join(u[0] for u in USERS)} (password {DEMO_PASSWORD!r})")


# team, kind, limits
QUOTAS = [
    (
        "payments",
        "kubernetes-namespace",
        {"max_count": 10, "max_cpu_millicores": 32000, "max_memory_mib": 65536},
    ),
    ("payments", "postgres", {"max_count": 5, "max_storage_gib": 1000}),
    ("payments", "elevated-access", {"max_count": 3}),
    ("search", "kubernetes-namespace", {"max_count": 5, "max_cpu_millicores": 16000}),
    ("search", "postgres", {"max_count": 2, "max_storage_gib": 200}),
]
BUDGETS = [("payments", "2000.00"), ("search", "500.00"), ("platform", "10000.00")]
# requester, team, template, parameters, ttl_hours, justification
REQUESTS = [
    (
        "dev",
        "payments",
        "kubernetes-namespace",
        {"name": "payments-checkout-v2", "environment": "dev"},
        None,
        "",
    ),
    (
        "dev",
        "payments",
        "postgres-database",
        {"name": "payments-ledger", "size": "small", "environment": "staging"},
        None,
        "Ledger for the payouts rework",
    ),
    (
        "dev",
        "payments",
        "elevated-access",
        {"system": "payments-db", "role": "read", "ticket": "INC-4711"},
        4,
        "Investigating INC-4711: stuck payouts",
    ),
    (
        "dev",
        "search",
        "restart-deployment",
        {"deployment": "indexer", "namespace": "search-prod", "environment": "prod"},
        None,
        "now",
    ),
    (
        "dev",
        "search",
        "kubernetes-namespace",
        {"name": "search-indexer-v2", "environment": "staging", "cpu_millicores": 4000},
        336,
        "",
    ),
]
# runbook, on-call user, team, parameters, justification
RUNBOOK_RUNS = [
    (
        "scale-deployment",
        "oncall",
        "payments",
        {"deployment": "checkout", "namespace": "payments-prod", "replicas": 6},
        "Checkout latency SLO burning at 14x; scale out while we look for the cause",
    ),
]


def _seed_catalog(*, admin, stdout) -> None:
    """Templates and policies from catalog/definitions/, the old PostgreSQL version
    deprecated, quotas and budgets, and (once) a few demo requests."""
    report = catalog_import(actor=admin)
    if not report.ok:
        raise RuntimeError("catalog definitions are invalid: " + "; ".join(report.errors))
    old = TemplateVersion.objects.filter(template__slug="postgres-database", version="0.9.0")
    for version in old:
        template_version_deprecate(
            actor=admin, version=version, reason="Superseded by 1.0.0 (sizes, environments)."
        )
    for slug, kind, limits in QUOTAS:
        quota_set(actor=admin, team=Team.objects.get(slug=slug), kind=kind, **limits)
    for slug, limit in BUDGETS:
        budget_set(actor=admin, team=Team.objects.get(slug=slug), monthly_limit=Decimal(limit))
    if not Request.objects.exists():
        User = get_user_model()
        for username, team, template, parameters, ttl, justification in REQUESTS:
            request = request_submit(
                actor=User.objects.get(username=username),
                template=template,
                team=team,
                parameters=parameters,
                ttl_hours=ttl,
                justification=justification,
            )
            if request.state == RequestState.PROVISIONING:
                _provision_now(request)
        for runbook, username, team, parameters, justification in RUNBOOK_RUNS:
            runbook_run_start(
                actor=User.objects.get(username=username),
                runbook=runbook,
                team=team,
                parameters=parameters,
                justification=justification,
            )
    if stdout:
        stdout.write(
            f"catalog: {len(report.published)} template version(s), "
            f"{len(report.policies_saved)} polic(ies) and "
            f"{len(report.others_published.get('runbook', []))} "
            "runbook(s) new; quotas and budgets set"
        )


def _provision_now(request: Request) -> None:
    """Carry out a demo request's run in this process: the demo is seeded before its worker
    starts (the queued message later finds the run done: steps are idempotent)."""
    from provisioning import runner

    run = run_start_provision(request_id=request.pk)
    for _ in range(20):  # a handful of steps; the bound keeps a broken demo from looping
        run.refresh_from_db()
        step = run.steps.filter(state__in=(StepState.PENDING, StepState.RETRYING)).first()
        if not run.is_open or step is None:
            return
        runner.step_execute(step_id=step.pk, retries=99)
