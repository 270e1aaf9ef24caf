"""Multi-row INSERTs for a batch of rows, without model instances or the SQL compiler.

Ingest writes two rows per resource; building model instances and compiling a multi-row INSERT costs
more than validating the resource does. Values of fields that need it (UUIDs, dates, bytes) still go
through the field's ``get_db_prep_save``, so rows are stored exactly as the ORM would store them; text,
numbers and booleans pass as they are. One statement carries as many rows as the database's parameter
limit allows (SQLite: 999 parameters, so about 60 rows). On PostgreSQL the rows go in with one binary
COPY: bytes travel as they are rather than as hex text, which the server would have to decode.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Sequence
from functools import lru_cache
from typing import Any, NamedTuple

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper

# Fields whose Python value is already what every database driver takes.
_AS_IS = (models.CharField, models.TextField, models.IntegerField, models.BooleanField)


def _same(value: Any) -> Any:
    return value


def _uuid_hex(value: Any) -> Any:
    """UUID text as Django stores it where there is no native type (32 hex digits, no dashes)."""
    if value is None:
        return None
    return value.hex if isinstance(value, uuid.UUID) else uuid.UUID(value).hex


def _remembering(adapt: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Adapt a value once when every row repeats it (created_at and updated_at of one batch)."""
    last: list[Any] = [object(), None]

    def prepare(value: Any) -> Any:
        if value is not last[0]:
            last[0], last[1] = value, adapt(value)
        return last[1]

    return prepare


def _preparer(field: Any, db: BaseDatabaseWrapper) -> Callable[[Any], Any]:
    """How one column's values reach the driver: as the field would prepare them, minus the overhead."""
    target = field.target_field if isinstance(field, models.ForeignKey) else field
    if isinstance(target, _AS_IS):
        return _same
    if isinstance(target, models.UUIDField):
        return _same if db.features.has_native_uuid_field else _uuid_hex
    if isinstance(target, models.DateTimeField):
        return _remembering(db.ops.adapt_datetimefield_value)
    if isinstance(target, models.DateField):
        return db.ops.adapt_datefield_value
    if isinstance(target, models.BinaryField):
        binary = db.Database.Binary  # type: ignore[attr-defined]
        return lambda value: None if value is None else binary(value)
    return lambda value: field.get_db_prep_save(value, db)


def insert_rows(model: type[models.Model], field_names: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Store the rows: one COPY on PostgreSQL, else as few multi-row INSERTs as the parameter limit allows."""
    if not rows:
        return
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor == "postgresql":
        _copy(db, _copy_plan(model, tuple(field_names)), rows)
        return
    fields = [model._meta.get_field(name) for name in field_names]
    quote = db.ops.quote_name
    columns = ", ".join(quote(str(field.column)) for field in fields)  # type: ignore[union-attr]
    row_placeholder = "(" + ", ".join(["%s"] * len(fields)) + ")"
    preparers = [_preparer(field, db) for field in fields]
    params = [prepare(value) for row in rows for prepare, value in zip(preparers, row, strict=True)]
    per_statement = (db.features.max_query_params or 65535) // len(fields) * len(fields)
    with db.cursor() as cursor:
        for start in range(0, len(params), per_statement):
            chunk = params[start : start + per_statement]
            values = ", ".join([row_placeholder] * (len(chunk) // len(fields)))
            cursor.execute(f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES {values}", chunk)  # noqa: S608


# Column types as Django declares them, by the names psycopg's binary dumpers know them.
_BINARY_TYPE_NAMES = {
    "timestamp with time zone": "timestamptz",
    "integer": "int4",
    "smallint": "int2",
    "boolean": "bool",
}


def _binary_type(field: Any, db: BaseDatabaseWrapper) -> str:
    """The type psycopg writes a column's values as in a binary COPY (``varchar(64)`` → ``varchar``)."""
    declared = str(field.db_type(db)).split("(")[0]
    return _BINARY_TYPE_NAMES.get(declared, declared)


def _as_uuid(value: Any) -> Any:
    return value if value is None or isinstance(value, uuid.UUID) else uuid.UUID(value)


class _CopyPlan(NamedTuple):
    statement: str
    types: list[str]
    uuid_columns: list[int]


@lru_cache(maxsize=16)
def _copy_plan(model: type[models.Model], field_names: tuple[str, ...]) -> _CopyPlan:
    """The COPY statement of a model's columns and the types psycopg writes them as (worked out once)."""
    db = connections[DEFAULT_DB_ALIAS]
    fields = [model._meta.get_field(name) for name in field_names]
    quote = db.ops.quote_name
    columns = ", ".join(quote(str(field.column)) for field in fields)  # type: ignore[union-attr]
    types = [_binary_type(field, db) for field in fields]
    statement = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN (FORMAT BINARY)"
    return _CopyPlan(statement, types, [index for index, name in enumerate(types) if name == "uuid"])


def _copy(db: BaseDatabaseWrapper, plan: _CopyPlan, rows: Sequence[Sequence[object]]) -> None:
    """PostgreSQL: a binary COPY FROM STDIN, its fastest way in; UUID columns take UUIDs (text is converted,
    when the first row holds text: a caller passes one kind)."""
    converted = [i for i in plan.uuid_columns if isinstance(rows[0][i], str)]
    with db.cursor() as cursor, cursor.cursor.copy(plan.statement) as copy:
        copy.set_types(plan.types)
        for row in rows:
            if converted:
                row = list(row)
                for index in converted:
                    row[index] = _as_uuid(row[index])
            copy.write_row(row)


class StoredVersion(NamedTuple):
    """What ingest needs to know of a resource the source already holds: its row, digest, and whether it is live."""

    pk: uuid.UUID
    digest: str
    live: bool  # False: withdrawn by the source (``deleted_at_source``)


def stored_versions(
    person: Any, source_key: str, resource_ids: Collection[str]
) -> dict[tuple[str, str], StoredVersion]:
    """(type, id) → the stored version of each of ``resource_ids`` from ``source_key``: one statement, no ORM
    (compiling the query cost more than running it, once a Bundle)."""
    from phr.models import FhirResource

    if not resource_ids:
        return {}
    db = connections[DEFAULT_DB_ALIAS]
    person_id = FhirResource._meta.get_field("person").get_db_prep_value(person.pk, db)
    ids = sorted(resource_ids)
    params: list[Any]
    if db.vendor == "postgresql":
        where, params = "resource_id = ANY(%s)", [ids]
    else:
        where, params = f"resource_id IN ({', '.join(['%s'] * len(ids))})", [*ids]
    table = db.ops.quote_name(FhirResource._meta.db_table)
    sql = (
        f"SELECT resource_type, resource_id, id, content_digest, deleted_at_source IS NULL FROM {table} "  # noqa: S608
        f"WHERE person_id = %s AND source_key = %s AND {where}"
    )
    with db.cursor() as cursor:
        cursor.execute(sql, [person_id, source_key, *params])
        return {
            (resource_type, resource_id): StoredVersion(_as_uuid(pk), digest, bool(live))
            for resource_type, resource_id, pk, digest, live in cursor.fetchall()
        }
