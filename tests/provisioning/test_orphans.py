"""The orphan scan: resources whose owner is gone, and backend objects SSOps made that are no
longer in its inventory; findings stay open until a scan no longer sees them, and the report
lists them per team, for the teams the reader may see."""

import psycopg
import pytest
from psycopg import sql

from audit.models import AuditEvent
from provisioning.models import OrphanFinding, Resource
from provisioning.services.orphans import orphan_scan
from teams.models import Membership
from tests.provisioning.conftest import ADMIN_DSN, database_step, grant_step

pytestmark = pytest.mark.django_db


@pytest.fixture
def granted(provision, engine_template):
    engine_template(grant_step())
    return provision()


def test_a_resource_whose_requester_is_gone_is_found_and_later_resolved(granted, bob, alice):
    assert orphan_scan()["new"] == 0
    bob.is_active = False
    bob.save()
    result = orphan_scan()
    finding = OrphanFinding.objects.get()
    assert result["new"] == 1 and finding.kind == "owner_gone"
    assert finding.reason == "requester bob is deactivated"
    assert finding.team.slug == "payments" and finding.resource.kind == "access.grant"
    assert orphan_scan()["new"] == 0  # seen again: the same finding, last_seen moves
    bob.is_active = True
    bob.save()
    assert orphan_scan()["resolved"] == 1
    assert OrphanFinding.objects.get().resolved_at is not None
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"orphan.found", "orphan.resolved"} <= actions


def test_a_team_without_members_orphans_its_resources(granted, bob, team):
    Membership.objects.filter(team=team).delete()
    orphan_scan()
    assert OrphanFinding.objects.get().reason == "team payments has no active members"


def test_without_backends_configured_the_scan_says_what_it_skipped(granted):
    backends = orphan_scan()["backends"]
    assert backends == {
        "postgres": "not configured (SSOPS_PROVISION_POSTGRES_URL)",
        "kubernetes": "no cluster configured (SSOPS_KUBECONFIG)",
    }


@pytest.mark.postgres
def test_databases_and_roles_not_in_the_inventory_are_found(
    provision, engine_template, pg_server, team
):
    engine_template(database_step())
    request = provision()
    kept = Resource.objects.get(request=request).name
    stray = f"{pg_server}made_by_hand"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(stray)))
    # A resource SSOps believes gone, but whose database is still there.
    lost = provision(parameters={"name": "payments-lost"})
    lost_resource = Resource.objects.get(request=lost)
    Resource.objects.filter(pk=lost_resource.pk).update(state="deleted")
    result = orphan_scan()
    assert result["backends"]["postgres"].startswith("scanned")
    found = {(f.backend, f.name): f for f in OrphanFinding.objects.filter(kind="backend_object")}
    assert set(found) == {
        ("postgres.database", stray),
        ("postgres.database", lost_resource.name),
        ("postgres.role", lost_resource.name),
    }
    assert kept not in {name for _, name in found}
    made = found[("postgres.database", lost_resource.name)]
    assert made.team == team and str(lost.uuid) in made.reason
    assert found[("postgres.database", stray)].team is None


def test_the_report_lists_findings_per_team_for_those_who_may_see_them(
    granted, bob, client, charlie, platform_admin, api
):
    bob.is_active = False
    bob.save()
    orphan_scan()
    OrphanFinding.objects.create(
        kind="backend_object",
        backend="postgres.database",
        name="ssops_stray",
        reason="has SSOps's name prefix or label but is not in its inventory",
        first_seen_at=OrphanFinding.objects.get().first_seen_at,
        last_seen_at=OrphanFinding.objects.get().last_seen_at,
    )
    client.force_login(platform_admin)
    page = client.get("/resources/orphans/").content.decode()
    assert "Payments (payments)" in page and "No known owner" in page and "ssops_stray" in page
    client.force_login(charlie)
    page = client.get("/resources/orphans/").content.decode()
    assert "No orphans found." in page
    api.force_authenticate(charlie)
    assert api.get("/api/orphan-findings/").json()["count"] == 0
    api.force_authenticate(platform_admin)
    assert api.get("/api/orphan-findings/").json()["count"] == 2
    assert api.get("/api/orphan-findings/?team=payments").json()["count"] == 1
    assert api.get("/api/orphan-findings/?resolved=maybe").status_code == 400
