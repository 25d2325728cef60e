"""Plain SQL for the hot path of a request submission, with the ORM's own conversions.

Django builds and compiles a queryset's SQL on every call. For a one-row lookup or insert that
is about 0.3 ms on our 2-core machine, ten times the database's own work, and a submission makes
a dozen such statements, most of them inside the write lock. These helpers build each
statement's SQL once per model, columns and database vendor. Values still go through the
fields' own code: `get_db_prep_save` on the way in, the backend's and the field's converters on
the way out. So a row written or read here is the row the ORM would write or read
(tests/ssops_site/test_rows.py compares them). No signals are sent, as with bulk_create.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import connection
from django.db.models import Model

_cache: dict[tuple, object] = {}


def _cached(key: tuple, build):
    key = (*key, connection.vendor)
    found = _cache.get(key)
    if found is None:
        found = _cache[key] = build()
    return found


class Columns:
    """A model's concrete columns under a table alias in a SELECT, and the way back from a row
    of them to an instance (as if the ORM had loaded it)."""

    def __init__(self, model: type[Model], alias: str):
        meta, quote = model._meta, connection.ops.quote_name
        self.model = model
        self.fields = list(meta.concrete_fields)
        self.sql = ", ".join(f"{alias}.{quote(field.column)}" for field in self.fields)
        self.names = [field.attname for field in self.fields]
        self._conversions = []
        for field in self.fields:
            column = field.get_col(alias)
            converters = connection.ops.get_db_converters(column) + field.get_db_converters(
                connection
            )
            self._conversions.append((column, converters))

    def __len__(self) -> int:
        return len(self.fields)

    def instance(self, values: Sequence) -> Model:
        converted = []
        for value, (column, converters) in zip(values, self._conversions, strict=True):
            for converter in converters:
                value = converter(value, column, connection)
            converted.append(value)
        return self.model.from_db(connection.alias, self.names, converted)


def columns(model: type[Model], alias: str) -> Columns:
    return _cached(("columns", model, alias), lambda: Columns(model, alias))


def fetch_one(sql: str, params: Sequence) -> tuple | None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def fetch_all(sql: str, params: Sequence) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [tuple(row) for row in cursor.fetchall()]


def prep(model: type[Model], name: str, value):
    """A lookup value as the database takes it for field `name` (a model instance: its key)."""
    field = model._meta.get_field(name)
    return field.get_db_prep_value(getattr(value, "pk", value), connection)


def insert(objs: Iterable[Model]) -> None:
    """INSERT new instances of one model in one statement, as bulk_create would, and set their
    automatic primary keys (auto_now fields and defaults are filled as by save)."""
    objs = list(objs)
    if not objs:
        return
    model = type(objs[0])
    meta = model._meta

    def build():
        fields = [field for field in meta.concrete_fields if field is not meta.auto_field]
        quote = connection.ops.quote_name
        names = ", ".join(quote(field.column) for field in fields)
        returning = f" RETURNING {quote(meta.pk.column)}" if meta.auto_field else ""
        return fields, f"INSERT INTO {quote(meta.db_table)} ({names}) VALUES ", returning

    fields, head, returning = _cached(("insert", model), build)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    params = [
        field.get_db_prep_save(field.pre_save(obj, True), connection)
        for obj in objs
        for field in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(head + ", ".join([row] * len(objs)) + returning, params)
        keys = cursor.fetchall() if returning else []
    for obj, key in zip(objs, keys, strict=False):
        obj.pk = key[0]
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias


def update(obj: Model, names: Iterable[str]) -> int:
    """UPDATE the named fields of a saved instance (auto_now fields among them are refreshed);
    the number of rows changed."""
    model, names = type(obj), tuple(sorted(names))
    meta = model._meta

    def build():
        quote = connection.ops.quote_name
        fields = [meta.get_field(name) for name in names]
        sets = ", ".join(f"{quote(field.column)} = %s" for field in fields)
        sql = f"UPDATE {quote(meta.db_table)} SET {sets} WHERE {quote(meta.pk.column)} = %s"
        return fields, sql

    fields, sql = _cached(("update", model, names), build)
    params = [field.get_db_prep_save(field.pre_save(obj, False), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, meta.pk.get_db_prep_value(obj.pk, connection)])
        return cursor.rowcount
