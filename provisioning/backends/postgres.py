"""`postgres.database`: a database and its owning role on the server of
SSOPS_PROVISION_POSTGRES_URL (an admin DSN).

Names are SSOPS_PROVISION_PREFIX + the requested name + the step key's first characters, so a
re-run of the same step finds what it made: the role and the database are created only when
absent, and the role's password is (re)set to the step's stored secret. The password reaches
the server only as a SCRAM-SHA-256 verifier, so it is not in the server's logs either. Undo
drops both (connections are closed first). Each object carries a comment naming the step,
request and team, which the orphan scan reads.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
from contextlib import contextmanager
from urllib.parse import urlsplit

import psycopg
from django.conf import settings
from psycopg import errors, sql

from provisioning.base import (
    Found,
    LogBook,
    PermanentError,
    Provisioned,
    ResourceSpec,
    StepContext,
    StepResult,
    TransientError,
)

ACTION = "postgres.database"
EXTENSIONS = {"pgcrypto", "pg_trgm", "postgis"}
MARKER = "ssops"
# Worth another try: the server is busy, a lock or a connection is in the way.
TRANSIENT = (
    psycopg.OperationalError,
    errors.ObjectInUse,
    errors.LockNotAvailable,
    errors.DeadlockDetected,
    errors.SerializationFailure,
    errors.QueryCanceled,
    errors.TooManyConnections,
)


def scram_verifier(password: str, *, iterations: int = 4096, salt: bytes | None = None) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for a password (RFC 5802/7677)."""
    salt = salt or os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode()

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def object_name(requested: str, key: str, prefix: str | None = None) -> str:
    """prefix + requested name (as an identifier) + _ + 10 characters of the step key."""
    prefix = settings.PROVISION_PREFIX if prefix is None else prefix
    short = key.replace("-", "")[:10]
    room = 63 - len(prefix) - len(short) - 1
    base = re.sub(r"[^a-z0-9]+", "_", requested.lower()).strip("_")[:room] or "db"
    return f"{prefix}{base}_{short}"


def _dsn() -> str:
    if not settings.PROVISION_POSTGRES_URL:
        raise PermanentError(
            "no PostgreSQL server is configured for new databases: set "
            "SSOPS_PROVISION_POSTGRES_URL to an admin DSN (postgresql://USER:PASSWORD@HOST:5432/"
            "postgres, a role with CREATEDB and CREATEROLE)"
        )
    return settings.PROVISION_POSTGRES_URL


@contextmanager
def admin_connection(dbname: str | None = None):
    """An autocommit admin connection; its failures become Transient/PermanentError."""
    options = "-c lock_timeout=30000 -c statement_timeout=120000"
    kwargs = {"dbname": dbname} if dbname else {}
    try:
        with psycopg.connect(
            _dsn(), autocommit=True, connect_timeout=10, options=options, **kwargs
        ) as connection:
            yield connection
    except TRANSIENT as exc:
        raise TransientError(f"PostgreSQL: {type(exc).__name__}: {_first_line(exc)}") from None
    except psycopg.Error as exc:
        raise PermanentError(f"PostgreSQL: {type(exc).__name__}: {_first_line(exc)}") from None


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [""])[0]


def _server() -> tuple[str, int]:
    parts = urlsplit(_dsn())
    return parts.hostname or "localhost", parts.port or 5432


def _exists(connection, catalog: str, column: str, name: str) -> bool:
    query = sql.SQL("SELECT 1 FROM {} WHERE {} = %s").format(
        sql.Identifier("pg_catalog", catalog), sql.Identifier(column)
    )
    return connection.execute(query, [name]).fetchone() is not None


def _marker(ctx: StepContext) -> str:
    return json.dumps(
        {
            "managed_by": MARKER,
            "step": ctx.key,
            "request": ctx.request.get("uuid", ""),
            "team": ctx.request.get("team", ""),
        },
        sort_keys=True,
    )


class PostgresDatabase:
    def apply(self, ctx: StepContext) -> StepResult:
        name = object_name(ctx.input["name"], ctx.key)
        password = ctx.secret()
        identifier = sql.Identifier(name)
        verifier = sql.Literal(scram_verifier(password))
        with admin_connection() as connection:
            if _exists(connection, "pg_roles", "rolname", name):
                ctx.log.info(f"role {name} exists (an earlier attempt made it): password set again")
                connection.execute(
                    sql.SQL("ALTER ROLE {} LOGIN PASSWORD {}").format(identifier, verifier)
                )
            else:
                connection.execute(
                    sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(identifier, verifier)
                )
                ctx.log.info(f"role {name} created")
            if _exists(connection, "pg_database", "datname", name):
                ctx.log.info(f"database {name} exists (an earlier attempt made it)")
            else:
                try:
                    connection.execute(
                        sql.SQL("CREATE DATABASE {} OWNER {}").format(identifier, identifier)
                    )
                except errors.DuplicateDatabase:
                    ctx.log.info(f"database {name} was created meanwhile by another attempt")
                else:
                    ctx.log.info(f"database {name} created, owned by {name}")
            connection.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(identifier))
            marker = sql.Literal(_marker(ctx))
            connection.execute(sql.SQL("COMMENT ON ROLE {} IS {}").format(identifier, marker))
            connection.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(identifier, marker))
        self._extensions(ctx, name)
        host, port = _server()
        details = {
            "host": host,
            "port": port,
            "database": name,
            "role": name,
            "size": ctx.input.get("size", ""),
            "storage_gib": ctx.input.get("storage_gib"),
            "extensions": ctx.input.get("extensions", []),
        }
        return StepResult(
            output={
                "host": host,
                "port": port,
                "database": name,
                "role": name,
                "credentials_ref": f"ssops-secret:{ctx.key}",
            },
            resource=ResourceSpec(
                name=name, external_id=f"postgres://{host}:{port}/{name}", details=details
            ),
        )

    def _extensions(self, ctx: StepContext, name: str) -> None:
        wanted = ctx.input.get("extensions") or []
        unknown = sorted(set(wanted) - EXTENSIONS)
        if unknown:
            raise PermanentError(f"extensions not offered: {', '.join(unknown)}")
        if not wanted:
            return
        with admin_connection(dbname=name) as connection:
            available = {
                row[0]
                for row in connection.execute("SELECT name FROM pg_available_extensions").fetchall()
            }
            for extension in wanted:
                if extension not in available:
                    raise PermanentError(f"extension {extension} is not installed on the server")
                connection.execute(
                    sql.SQL("CREATE EXTENSION IF NOT EXISTS {}").format(sql.Identifier(extension))
                )
                ctx.log.info(f"extension {extension} enabled")

    def undo(self, ctx: StepContext) -> StepResult:
        if not settings.PROVISION_POSTGRES_URL and not ctx.output:
            ctx.log.info("nothing to undo: no PostgreSQL server was configured, nothing was made")
            return StepResult()
        name = object_name(ctx.input.get("name", ""), ctx.key)
        identifier = sql.Identifier(name)
        with admin_connection() as connection:
            if _exists(connection, "pg_database", "datname", name):
                connection.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(identifier)
                )
                ctx.log.info(f"database {name} dropped")
            else:
                ctx.log.info(f"database {name} is not there (never made, or already dropped)")
            if _exists(connection, "pg_roles", "rolname", name):
                connection.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(identifier))
                ctx.log.info(f"role {name} dropped")
            else:
                ctx.log.info(f"role {name} is not there (never made, or already dropped)")
        return StepResult()

    def inventory(self) -> list[Found]:
        """Databases and roles on the server whose names start with the prefix."""
        pattern = settings.PROVISION_PREFIX.replace("_", r"\_") + "%"
        found = []
        with admin_connection() as connection:
            for backend, query in (
                (
                    "postgres.database",
                    "SELECT d.datname, shobj_description(d.oid, 'pg_database') "
                    "FROM pg_database d WHERE d.datname LIKE %s",
                ),
                (
                    "postgres.role",
                    "SELECT r.rolname, shobj_description(r.oid, 'pg_authid') "
                    "FROM pg_roles r WHERE r.rolname LIKE %s",
                ),
            ):
                for name, comment in connection.execute(query, [pattern]).fetchall():
                    found.append(Found(backend=backend, name=name, details=_parse_marker(comment)))
        return found

    # --- drift: what the database and its role should be, and what they are -------------------

    def expected(self, target: Provisioned) -> dict:
        """As apply leaves them: the database owned by its role, reachable by nobody else
        (PUBLIC's default privileges revoked), no connection limit; the role a plain login
        role, member of no other role."""
        name = target.name
        return {
            "database.exists": True,
            "database.owner": name,
            "database.connection_limit": -1,
            "database.grants": [f"{name}=CTc/{name}"],
            "role.exists": True,
            "role.login": True,
            "role.superuser": False,
            "role.createdb": False,
            "role.createrole": False,
            "role.connection_limit": -1,
            "role.member_of": [],
        }

    def observe(self, target: Provisioned) -> dict:
        name = target.name
        with admin_connection() as connection:
            database = connection.execute(
                "SELECT pg_get_userbyid(d.datdba), d.datconnlimit, "
                "COALESCE(d.datacl, acldefault('d', d.datdba))::text[] "
                "FROM pg_database d WHERE d.datname = %s",
                [name],
            ).fetchone()
            role = connection.execute(
                "SELECT r.rolcanlogin, r.rolsuper, r.rolcreatedb, r.rolcreaterole, "
                "r.rolconnlimit, ARRAY(SELECT g.rolname FROM pg_auth_members m "
                "JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid ORDER BY 1) "
                "FROM pg_roles r WHERE r.rolname = %s",
                [name],
            ).fetchone()
        owner, limit, grants = database or (None, None, None)
        login, superuser, createdb, createrole, role_limit, member_of = role or (None,) * 6
        return {
            "database.exists": database is not None,
            "database.owner": owner,
            "database.connection_limit": limit,
            "database.grants": sorted(grants) if grants is not None else None,
            "role.exists": role is not None,
            "role.login": login,
            "role.superuser": superuser,
            "role.createdb": createdb,
            "role.createrole": createrole,
            "role.connection_limit": role_limit,
            "role.member_of": list(member_of) if member_of is not None else None,
        }

    def restore(self, target: Provisioned, log: LogBook) -> None:
        """Put the database and its role back as apply left them. A database or role that is
        gone cannot be made again here: its data and its password (shown once) went with it."""
        name = target.name
        found = self.observe(target)
        if not found["database.exists"] or not found["role.exists"]:
            missing = "database" if not found["database.exists"] else "role"
            raise PermanentError(
                f"the {missing} {name} is gone: re-applying cannot bring back its data or its "
                "password; delete the resource and request a new one, or accept the change"
            )
        identifier = sql.Identifier(name)
        with admin_connection() as connection:
            connection.execute(
                sql.SQL(
                    "ALTER ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE CONNECTION LIMIT -1"
                ).format(identifier)
            )
            for group in found["role.member_of"] or []:
                connection.execute(
                    sql.SQL("REVOKE {} FROM {}").format(sql.Identifier(group), identifier)
                )
                log.info(f"role {name} taken out of {group}")
            connection.execute(
                sql.SQL("ALTER DATABASE {} OWNER TO {}").format(identifier, identifier)
            )
            connection.execute(sql.SQL("ALTER DATABASE {} CONNECTION LIMIT -1").format(identifier))
            for grantee in sorted({_grantee(item) for item in found["database.grants"] or []}):
                if grantee != name:
                    who = sql.SQL("PUBLIC") if grantee == "" else sql.Identifier(grantee)
                    connection.execute(
                        sql.SQL("REVOKE ALL ON DATABASE {} FROM {}").format(identifier, who)
                    )
                    log.info(f"privileges of {grantee or 'PUBLIC'} on {name} revoked")
            connection.execute(
                sql.SQL("GRANT ALL ON DATABASE {} TO {}").format(identifier, identifier)
            )
        log.info(f"database {name} and its role restored as provisioned")


def _grantee(aclitem: str) -> str:
    """The grantee of an ACL item such as `name=CTc/owner` (empty: PUBLIC)."""
    grantee = aclitem.split("=", 1)[0]
    return grantee[1:-1].replace('""', '"') if grantee.startswith('"') else grantee


def _parse_marker(comment: str | None) -> dict:
    try:
        marker = json.loads(comment or "")
    except ValueError:
        return {}
    return marker if isinstance(marker, dict) and marker.get("managed_by") == MARKER else {}
