"""Multi-row INSERTs for a batch of rows, without model instances or the SQL compiler.

Ingest writes two rows per resource; building model instances and compiling a multi-row INSERT costs
more than validating the resource does. Values of fields that need it (UUIDs, dates, bytes) still go
through the field's ``get_db_prep_save``, so rows are stored exactly as the ORM would store them; text,
numbers and booleans pass as they are. One statement carries as many rows as the database's parameter
limit allows (SQLite: 999 parameters, so about 60 rows). On PostgreSQL the rows go in with one COPY.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

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


def insert_rows(model: type[models.Model], field_names: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Store the rows: one COPY on PostgreSQL, else as few multi-row INSERTs as the parameter limit allows."""
    db = connections[DEFAULT_DB_ALIAS]
    fields = [model._meta.get_field(name) for name in field_names]
    if db.vendor == "postgresql":
        _copy(db, model, [str(field.column) for field in fields], rows)  # type: ignore[union-attr]
        return
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


def _copy(
    db: BaseDatabaseWrapper, model: type[models.Model], columns: list[str], rows: Iterable[Sequence[object]]
) -> None:
    """PostgreSQL: COPY FROM STDIN, its fastest way in; psycopg adapts UUIDs, datetimes and bytes itself."""
    quote = db.ops.quote_name
    statement = f"COPY {quote(model._meta.db_table)} ({', '.join(quote(column) for column in columns)}) FROM STDIN"
    with db.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)
