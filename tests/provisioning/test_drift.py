"""Drift (F4): the hourly scan compares what each backend holds with what was provisioned — a
real PostgreSQL server changed by hand, and the fake Kubernetes API server of the backend's
tests (there is no cluster here) — records findings beside the orphans, shows them, alerts
Alertmanager (real), and resolves them by re-applying the template version or accepting the
change, audited."""

import psycopg
import pytest
from psycopg import sql

from audit.models import AuditEvent
from provisioning.models import DriftFinding, Resource
from provisioning.services.drift import drift_accept, drift_reapply, drift_scan
from provisioning.tasks import drift_scan as drift_scan_task
from tests.provisioning.conftest import ADMIN_DSN, database_step, namespace_step
from tests.provisioning.test_kubernetes_backend import cluster  # noqa: F401  (the fake API)

pytestmark = pytest.mark.django_db

NAMESPACE = "/api/v1/namespaces/payments-one"
QUOTA = f"{NAMESPACE}/resourcequotas/ssops-quota"


def by_hand(*statements: sql.Composable) -> None:
    """What someone with the admin password does outside SSOps."""
    with psycopg.connect(ADMIN_DSN, autocommit=True) as connection:
        for statement in statements:
            connection.execute(statement)


def role_of(name: str) -> tuple:
    with psycopg.connect(ADMIN_DSN) as connection:
        return connection.execute(
            "SELECT r.rolconnlimit, COALESCE(d.datacl, acldefault('d', d.datdba))::text[], "
            "ARRAY(SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
            "WHERE m.member = r.oid) FROM pg_roles r JOIN pg_database d ON d.datname = r.rolname "
            "WHERE r.rolname = %s",
            [name],
        ).fetchone()


def actions(prefix: str) -> list[str]:
    return list(
        AuditEvent.objects.filter(action__startswith=prefix)
        .order_by("seq")
        .values_list("action", flat=True)
    )


@pytest.fixture
def database(provision, engine_template, pg_server):
    engine_template(database_step())
    request = provision()
    assert request.state == "ready", request.runs.get().error
    return Resource.objects.get(kind="postgres.database")


@pytest.mark.postgres
def test_a_role_changed_by_hand_is_found_alerted_and_reapplied(
    database, pg_server, alice, api_as, client, settings, alertmanager, on_commit
):
    settings.ALERTMANAGER_URL = alertmanager.url
    name = database.name
    assert drift_scan()["new"] == 0
    helper = f"{pg_server}helper"
    identifier = sql.Identifier(name)
    by_hand(
        sql.SQL("ALTER ROLE {} CONNECTION LIMIT 5").format(identifier),
        sql.SQL("GRANT CONNECT ON DATABASE {} TO PUBLIC").format(identifier),
        sql.SQL("CREATE ROLE {}").format(sql.Identifier(helper)),
        sql.SQL("GRANT {} TO {}").format(sql.Identifier(helper), identifier),
    )
    result = drift_scan()
    assert (result["new"], result["open"]) == (1, 1)
    assert result["backends"]["postgres.database"] == "checked"
    finding = DriftFinding.objects.get()
    found = {d["what"]: (d["expected"], d["found"]) for d in finding.differences}
    assert found == {
        "role.connection_limit": (-1, 5),
        "role.member_of": ([], [helper]),
        "database.grants": ([f"{name}=CTc/{name}"], sorted([f"=c/{name}", f"{name}=CTc/{name}"])),
    }
    assert finding.team.slug == "payments" and finding.resource == database
    assert drift_scan()["new"] == 0  # the same finding, seen again
    assert actions("drift.") == ["drift.found"]
    (alert,) = alertmanager.active_alerts(alertname="ResourceDrift", resource=name)
    assert alert["labels"]["severity"] == "ticket" and alert["labels"]["team"] == "payments"
    assert "role.connection_limit 5" in alert["annotations"]["description"]
    # Shown on the resource, beside the orphans, and in the API.
    client.force_login(alice)
    page = client.get(f"/resources/{database.uuid}/").content.decode()
    assert "no longer matches what was provisioned" in page and "role.connection_limit" in page
    assert "Re-apply the template version" in page and "Accept the change" in page
    assert name in client.get("/resources/orphans/").content.decode()
    listed = api_as(alice).get("/api/drift-findings/").json()["results"]
    assert [f["uuid"] for f in listed] == [str(finding.uuid)]
    # Re-applying (a task, on commit) puts the role back and closes the finding.
    with on_commit():
        answer = api_as(alice).post(f"/api/drift-findings/{finding.uuid}/reapply/")
    assert answer.status_code == 200
    finding.refresh_from_db()
    assert (finding.resolution, finding.resolved_by) == ("reapplied", alice), finding.last_error
    assert role_of(name) == (-1, [f"{name}=CTc/{name}"], [])
    assert actions("drift.") == ["drift.found", "drift.reapply_requested", "drift.reapplied"]
    assert alertmanager.active_alerts(alertname="ResourceDrift", resource=name) == []
    again = api_as(alice).post(f"/api/drift-findings/{finding.uuid}/reapply/")
    assert again.status_code == 409
    assert drift_scan()["open"] == 0


@pytest.mark.postgres
def test_an_accepted_change_is_expected_from_then_on(database, alice, bob, charlie, api_as):
    name = database.name
    by_hand(sql.SQL("ALTER ROLE {} CONNECTION LIMIT 3").format(sql.Identifier(name)))
    drift_scan()
    finding = DriftFinding.objects.get()
    assert api_as(charlie).post(f"/api/drift-findings/{finding.uuid}/accept/").status_code == 404
    assert api_as(bob).post(f"/api/drift-findings/{finding.uuid}/accept/").status_code == 403
    accepted = drift_accept(finding=finding, actor=alice)
    assert accepted.resolution == "accepted"
    database.refresh_from_db()
    assert database.drift_accepted == {"role.connection_limit": 3}
    assert drift_scan() == {
        "checked": 1,
        "new": 0,
        "open": 0,
        "resolved": 0,
        "backends": {
            "postgres.database": "checked",
            "kubernetes.namespace": "no cluster configured (SSOPS_KUBECONFIG)",
        },
    }
    assert role_of(name)[0] == 3  # accepting changes nothing in the backend
    (event,) = AuditEvent.objects.filter(action="drift.accepted")
    assert event.actor_id == alice.pk and event.payload["accepted"][0]["found"] == 3


@pytest.mark.postgres
def test_a_database_dropped_by_hand_cannot_be_reapplied_and_says_why(database, alice, on_commit):
    by_hand(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(database.name)))
    drift_scan()
    finding = DriftFinding.objects.get()
    assert {"what": "database.exists", "expected": True, "found": False} in finding.differences
    with on_commit():
        drift_reapply(finding=finding, actor=alice)
    finding.refresh_from_db()
    assert finding.resolved_at is None and "is gone" in finding.last_error
    assert actions("drift.reapply_failed") == ["drift.reapply_failed"]


def test_a_namespace_edited_in_the_cluster_is_found_and_reapplied(
    provision,
    engine_template,
    cluster,  # noqa: F811
    oncall,
    on_commit,
):
    engine_template(namespace_step())
    assert provision().state == "ready"
    resource = Resource.objects.get()
    assert drift_scan()["new"] == 0
    # The same quantities written another way are no drift ("2000m" CPU is "2").
    cluster.objects[QUOTA]["spec"]["hard"]["requests.cpu"] = "2"
    assert drift_scan()["new"] == 0
    cluster.objects[QUOTA]["spec"]["hard"]["limits.memory"] = "64Gi"
    cluster.objects[NAMESPACE]["metadata"]["labels"]["team"] = "someone-else"
    cluster.objects[NAMESPACE]["metadata"]["labels"]["kubernetes.io/metadata.name"] = "x"
    del cluster.objects[f"{NAMESPACE}/limitranges/ssops-defaults"]
    drift_scan()
    finding = DriftFinding.objects.get()
    assert [d["what"] for d in finding.differences] == [
        "limitrange.limits",
        "namespace.labels",
        "resourcequota.hard",
    ]
    missing = finding.differences[0]
    assert missing["found"] is None and missing["expected"][0]["type"] == "Container"
    with on_commit():
        drift_reapply(finding=finding, actor=oncall)  # on-call may re-apply
    finding.refresh_from_db()
    assert finding.resolution == "reapplied", finding.last_error
    assert cluster.objects[QUOTA]["spec"]["hard"]["limits.memory"] == "4096Mi"
    assert cluster.objects[NAMESPACE]["metadata"]["labels"]["team"] == "payments"
    assert f"{NAMESPACE}/limitranges/ssops-defaults" in cluster.objects
    assert resource.drift_findings.count() == 1


def test_without_backends_the_scan_says_what_it_skipped_and_the_beat_job_runs(
    provision, engine_template
):
    engine_template(namespace_step())
    provision()  # not applied to any cluster: nothing to drift from
    assert drift_scan_task() == {
        "checked": 0,
        "new": 0,
        "open": 0,
        "resolved": 0,
        "backends": {
            "postgres.database": "not configured (SSOPS_PROVISION_POSTGRES_URL)",
            "kubernetes.namespace": "no cluster configured (SSOPS_KUBECONFIG)",
        },
    }


def test_a_finding_of_a_deleted_resource_is_closed(
    provision,
    engine_template,
    cluster,  # noqa: F811
    bob,
    on_commit,
):
    from provisioning.services import resource_delete

    engine_template(namespace_step())
    provision()
    resource = Resource.objects.get()
    cluster.objects[QUOTA]["spec"]["hard"]["pods"] = "500"
    drift_scan()
    with on_commit():
        resource_delete(actor=bob, resource=resource)
    drift_scan()
    assert DriftFinding.objects.get().resolution == "gone"
