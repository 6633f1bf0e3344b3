"""Helpers for the SQL written out on the vote path.

A vote with its next subject runs about ten statements. Through the ORM, building and
compiling each one cost more CPU than PostgreSQL spent running it (measured in-process on
PostgreSQL: the queue query 813 us through the ORM, 274 us written out; a row lock 350 us
through the ORM, 105 us written out), and a raw() queryset still spends most of that
resolving its columns. The statements with a fixed shape that run on every vote therefore
have their SQL written out, beside the code that uses them; these helpers keep that SQL
portable (SQLite and PostgreSQL) and its results exactly what the ORM would give
(tests/webapp/test_hot_sql.py): the backend's and the fields' converters, then
Model.from_db. Everything else uses the ORM.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Field, Model

M = TypeVar("M", bound=Model)


def for_update() -> str:
    """The row-lock clause, where the database has one (SQLite locks the whole database)."""
    return " FOR UPDATE" if connection.features.has_select_for_update else ""


# Per thread (each has its own connection): the converter of each field read so far, and
# each model's column list.
_local = threading.local()


def _caches() -> tuple[dict[Field, Callable[[Any], Any]], dict[type[Model], Any]]:
    wrapper = connections[DEFAULT_DB_ALIAS]
    if getattr(_local, "wrapper", None) is not wrapper:
        _local.wrapper, _local.by_field, _local.by_model = wrapper, {}, {}
    return _local.by_field, _local.by_model


def converter(field: Field) -> Callable[[Any], Any]:
    """The function that turns the field's column value into what the ORM would hand out:
    the backend's converters, then the field's (JSON decoded; on SQLite also booleans,
    UUIDs and aware datetimes). Made once per field and thread."""
    by_field, _ = _caches()
    if field not in by_field:
        wrapper = _local.wrapper
        col = field.get_col(field.model._meta.db_table)
        steps = wrapper.ops.get_db_converters(col) + col.get_db_converters(wrapper)

        def convert(value: Any) -> Any:
            for step in steps:
                value = step(value, col, wrapper)
            return value

        by_field[field] = convert
    return by_field[field]


def value_from_db(model: type[Model], field_name: str, value: Any) -> Any:
    return converter(_column_field(model, field_name))(value)


def _column_field(model: type[Model], name: str) -> Field:
    """The model's field `name`, one with a column (not a reverse relation)."""
    field = model._meta.get_field(name)
    if not isinstance(field, Field):
        raise ValueError(f"{model.__name__}.{name} has no column")
    return field


def _quoted_column(field: Field) -> str:
    if field.column is None:  # a concrete field always has one
        raise ValueError(f"{field} has no column")
    return connection.ops.quote_name(field.column)


def _reading(model: type[Model]) -> tuple[str, list[str], list[Callable[[Any], Any]]]:
    """The model's column list, attribute names and converters (made once per thread)."""
    _, by_model = _caches()
    if model not in by_model:
        meta = model._meta
        quote = connection.ops.quote_name
        fields = meta.concrete_fields
        by_model[model] = (
            ", ".join(f"{quote(meta.db_table)}.{_quoted_column(field)}" for field in fields),
            [field.attname for field in fields],
            [converter(field) for field in fields],
        )
    return by_model[model]


def select(model: type[M], from_where: str, params: list[Any]) -> list[M]:
    """The instances of the rows `SELECT <model's columns> <from_where>` finds; from_where
    names the model's table by its own name. One statement, no query building."""
    columns, names, converters = _reading(model)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} {from_where}", params)
        rows = cursor.fetchall()
    alias = connection.alias
    return [
        model.from_db(
            alias, names, [convert(value) for convert, value in zip(converters, row, strict=True)]
        )
        for row in rows
    ]


def select_one(model: type[M], from_where: str, params: list[Any]) -> M | None:
    rows = select(model, from_where, params)
    return rows[0] if rows else None


def row_locked(model: type[M], where: str, params: list[Any]) -> M | None:
    """The one row of `model` matching `where`, locked until the transaction ends."""
    table = connection.ops.quote_name(model._meta.db_table)
    return select_one(model, f"FROM {table} WHERE {where}{for_update()}", params)


def save_columns(instance: Model, names: list[str]) -> None:
    """instance.save(update_fields=names) as one UPDATE written out: the values are adapted
    by the fields as the ORM would, but no signals are sent and no pre_save runs (so: for
    plain columns of models without save hooks, as on the vote path)."""
    meta = instance._meta
    quote = connection.ops.quote_name
    fields = [_column_field(type(instance), name) for name in names]
    assignments = ", ".join(f"{_quoted_column(field)} = %s" for field in fields)
    values = [
        field.get_db_prep_save(getattr(instance, field.attname), connection) for field in fields
    ]
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {_quoted_column(meta.pk)} = %s"
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, instance.pk])


def insert(instance: Model) -> None:
    """instance.save() of a new row as one INSERT written out: each field's pre_save
    (auto_now_add) and adaptation as the ORM does them, and the new primary key set on the
    instance; no signals are sent (so: for models without save hooks, as on the vote path).
    Constraint violations raise django.db.IntegrityError, as save() does."""
    meta = instance._meta
    quote = connection.ops.quote_name
    fields = [field for field in meta.concrete_fields if field is not meta.auto_field]
    values = [
        field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields
    ]
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(_quoted_column(f) for f in fields)})"
        f" VALUES ({', '.join(['%s'] * len(fields))})"
    )
    returning = connection.features.can_return_columns_from_insert
    if returning:
        # Defined by the backends that can return columns (PostgreSQL, SQLite >= 3.35).
        returning_sql, _ = connection.ops.return_insert_columns([meta.pk])  # type: ignore[attr-defined]
        sql += f" {returning_sql}"
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        if returning:
            pk = cursor.fetchone()[0]
        else:
            pk = connection.ops.last_insert_id(cursor, meta.db_table, meta.pk.column or "")
    setattr(instance, meta.pk.attname, pk)
    instance._state.adding = False
    instance._state.db = connection.alias
