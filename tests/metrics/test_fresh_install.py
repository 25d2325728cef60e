"""A fresh install — `migrate` on an empty database, never `seed_demo` — evaluates SSOps's own
SLOs: the migration installs them (with the platform team that owns them), audited, and the SLO
engine measures them from SSOps's records. On SQLite, and on a PostgreSQL database of its own."""

from __future__ import annotations

import json

import pytest

from tests.test_house_migration import manage, postgres_database

OWN = {
    "ssops-api-availability",
    "ssops-api-latency",
    "ssops-catalog-uptime",
    "ssops-provisioning-latency",
    "ssops-provisioning-success",
}
# Records of the last hour, as SSOps would have made them: 20 probed minutes (one failed) and
# four provision runs that ended (three succeeded, one rolled back).
RECORDS = """
from datetime import timedelta
from django.utils import timezone
from metrics.models import ProbeResult
from provisioning.models import ProvisioningRun
now = timezone.now().replace(second=0, microsecond=0)
ProbeResult.objects.bulk_create(
    [ProbeResult(at=now - timedelta(minutes=m), ok=m != 7) for m in range(2, 22)]
)
for state in ("succeeded", "succeeded", "succeeded", "rolled_back"):
    ProvisioningRun.objects.create(
        kind="provision", template="db", state=state, finished_at=now - timedelta(minutes=5)
    )
"""


def evaluated(database_url: str, var_dir) -> dict[str, dict]:
    result = manage(database_url, var_dir, "slo_evaluate", "--json")
    assert result.returncode == 0, result.stderr
    return {item["name"]: item for item in json.loads(result.stdout)}


def check_fresh_install(database_url: str, var_dir) -> None:
    migrated = manage(database_url, var_dir, "migrate", "--no-input")
    assert migrated.returncode == 0, migrated.stderr
    found = evaluated(database_url, var_dir)
    assert set(found) == OWN  # nothing else: no demo
    assert {item["data_status"] for item in found.values()} == {"no_data"}  # nothing happened yet

    owners = manage(
        database_url,
        var_dir,
        "shell",
        "--no-imports",
        "-c",
        "from slo.models import SLO; print(sorted({s.team.slug for s in SLO.objects.all()}))",
    )
    assert owners.stdout.strip() == "['platform']", owners.stderr
    verified = manage(database_url, var_dir, "audit_verify")
    assert verified.returncode == 0 and "chain intact" in verified.stdout, verified.stdout

    recorded = manage(database_url, var_dir, "shell", "--no-imports", "-c", RECORDS)
    assert recorded.returncode == 0, recorded.stderr
    found = evaluated(database_url, var_dir)
    assert found["ssops-catalog-uptime"]["sli"] == pytest.approx(19 / 20)
    assert found["ssops-provisioning-success"]["sli"] == pytest.approx(3 / 4)
    # Four runs are fewer events than the low-traffic guard asks before an alert may fire:
    # measured, and said to be low traffic (docs/slos.md#the-low-traffic-guard).
    assert found["ssops-provisioning-success"]["data_status"] == "low_traffic"

    again = manage(database_url, var_dir, "migrate", "--no-input")  # nothing to do, no doubles
    assert again.returncode == 0 and set(evaluated(database_url, var_dir)) == OWN


@pytest.mark.once
def test_a_fresh_sqlite_install_evaluates_ssops_own_slos(tmp_path):
    check_fresh_install(f"sqlite:///{tmp_path / 'fresh.sqlite3'}", tmp_path)


@pytest.mark.postgres
def test_a_fresh_postgresql_install_evaluates_ssops_own_slos(tmp_path):
    with postgres_database("fresh") as url:
        check_fresh_install(url, tmp_path)
