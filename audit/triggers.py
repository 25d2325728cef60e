"""SQL for the append-only triggers, per database (used by the migration and by tamper drills)."""

from __future__ import annotations

TABLES = ("audit_auditevent", "audit_auditcheckpoint")

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION ssops_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '%% is append-only: %% refused', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$
"""


def create_statements(vendor: str) -> list[str]:
    if vendor == "postgresql":
        statements = [PG_FUNCTION]
        for table in TABLES:
            statements += [
                f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION ssops_append_only()",
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION ssops_append_only()",
            ]
        return statements
    if vendor == "sqlite":
        return [
            f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {op} refused'); END"
            for table in TABLES
            for op in ("UPDATE", "DELETE")
        ]
    raise RuntimeError(f"append-only triggers are not written for {vendor}")


def drop_statements(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [
            f"DROP TRIGGER IF EXISTS {table}_{name} ON {table}"
            for table in TABLES
            for name in ("no_change", "no_truncate")
        ]
    return [
        f"DROP TRIGGER IF EXISTS {table}_no_{op} "
        for table in TABLES
        for op in ("update", "delete")
    ]


def install(executor, vendor: str) -> None:
    """executor: a schema editor or a cursor; params=() so that %% reads as % on both."""
    for statement in create_statements(vendor):
        executor.execute(statement, ())


def remove(executor, vendor: str) -> None:
    for statement in drop_statements(vendor):
        executor.execute(statement, ())
