"""The PostgreSQL backend against the real local server (PostgreSQL pass): a database and its
owning role with a password that works, made once however often the step runs, dropped by
undo; the password reaches the server only as a SCRAM verifier. Objects use a per-test prefix
and are dropped afterwards (fixture pg_server)."""

import uuid

import psycopg
import pytest

from provisioning import crypto
from provisioning.backends.postgres import PostgresDatabase, object_name, scram_verifier
from provisioning.base import LogBook, PermanentError, StepContext
from provisioning.models import Resource, ResourceSecret
from provisioning.services import secret_reveal
from tests.provisioning.conftest import ADMIN_DSN, database_step, pg_objects

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def context(key: str, name: str = "orders", password: str = "Pw0rd-for-a-test") -> StepContext:  # noqa: S107
    return StepContext(
        key=key,
        action="postgres.database",
        operation="apply",
        input={"name": name},
        output={},
        log=LogBook(key, "postgres.database"),
        request={"uuid": "r", "team": "payments"},
        secret=lambda: password,
    )


def test_a_database_and_its_owning_role_work_with_the_generated_password(
    provision, engine_template, pg_server, bob
):
    engine_template(database_step())
    request = provision()
    assert request.state == "ready", request.runs.get().error
    resource = Resource.objects.get(kind="postgres.database")
    name = resource.name
    assert name.startswith(pg_server) and pg_objects(pg_server) == {
        "databases": [name],
        "roles": [name],
    }
    assert resource.external_id == f"postgres://127.0.0.1:5432/{name}"
    password = secret_reveal(actor=bob, resource=resource)
    with psycopg.connect(
        host="127.0.0.1", dbname=name, user=name, password=str(password)
    ) as connection:
        owner = connection.execute(
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()"
        ).fetchone()[0]
    assert owner == name
    with psycopg.connect(ADMIN_DSN) as admin:
        stored = admin.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s", [name])
        assert stored.fetchone()[0].startswith("SCRAM-SHA-256$4096:")


def test_running_the_step_again_makes_nothing_twice(pg_server):
    backend, key = PostgresDatabase(), str(uuid.uuid4())
    first = backend.apply(context(key))
    again = context(key, password="Another-password-1")
    second = backend.apply(again)
    assert first.output["database"] == second.output["database"]
    name = first.output["database"]
    assert pg_objects(pg_server) == {"databases": [name], "roles": [name]}
    messages = [line["message"] for line in again.log.lines]
    assert f"database {name} exists (an earlier attempt made it)" in messages
    # The password is the one of the latest run (the stored secret of the step).
    psycopg.connect(host="127.0.0.1", dbname=name, user=name, password="Another-password-1").close()


def test_undo_drops_both_and_can_run_again(pg_server):
    backend, key = PostgresDatabase(), str(uuid.uuid4())
    made = backend.apply(context(key))
    with psycopg.connect(
        host="127.0.0.1",
        dbname=made.output["database"],
        user=made.output["role"],
        password="Pw0rd-for-a-test",
    ):
        backend.undo(context(key))  # an open connection does not stop it (FORCE)
    assert pg_objects(pg_server) == {"databases": [], "roles": []}
    again = context(key)
    backend.undo(again)
    assert "is not there" in again.log.lines[0]["message"]


def test_names_keep_the_prefix_and_fit_postgres_limits():
    key = str(uuid.uuid4())
    name = object_name("Payments-Ledger " + "x" * 80, key, prefix="ssops_")
    assert name.startswith("ssops_payments_ledger_x") and len(name) <= 63
    assert name.endswith("_" + key.replace("-", "")[:10])


def test_the_verifier_is_scram_sha_256():
    verifier = scram_verifier("pencil", salt=b"0123456789abcdef")
    assert verifier.startswith("SCRAM-SHA-256$4096:MDEyMzQ1Njc4OWFiY2RlZg==$")


def test_the_stored_secret_is_encrypted_at_rest(provision, engine_template, pg_server):
    engine_template(database_step())
    provision()
    stored = ResourceSecret.objects.get()
    plain = crypto.decrypt(stored.ciphertext)
    assert len(plain) == 32 and plain not in stored.ciphertext
    assert stored.resource.kind == "postgres.database"


@pytest.mark.parametrize("extensions", [["pgcrypto"], ["no-such-thing"]])
def test_extensions_are_enabled_or_refused(pg_server, extensions):
    backend, key = PostgresDatabase(), str(uuid.uuid4())
    ctx = context(key)
    ctx.input["extensions"] = extensions
    if extensions == ["pgcrypto"]:
        made = backend.apply(ctx)
        with psycopg.connect(ADMIN_DSN, dbname=made.output["database"]) as connection:
            found = connection.execute("SELECT extname FROM pg_extension").fetchall()
        assert ("pgcrypto",) in found
    else:
        with pytest.raises(PermanentError, match="extensions not offered: no-such-thing"):
            backend.apply(ctx)
