"""Helpers for the SQL written out on the vote path.

A vote with its next subject runs ten statements. The ORM spends 0.1-0.5 ms of CPU building
and compiling each one, more than PostgreSQL spends running it, so on this path most of a
vote's cost was query building (measured in-process on PostgreSQL: the queue query 813 us
through the ORM, 274 us written out). The statements with a fixed shape that run on every
vote therefore have their SQL written out, beside the code that uses them; these helpers
keep that SQL portable (SQLite and PostgreSQL) and its results typed as the models'.
Everything else uses the ORM.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import connection
from django.db.models import Model

M = TypeVar("M", bound=Model)


def for_update() -> str:
    """The row-lock clause, where the database has one (SQLite locks the whole database)."""
    return " FOR UPDATE" if connection.features.has_select_for_update else ""


def row_locked(model: type[M], where: str, params: list[Any]) -> M | None:
    """The one row of `model` matching `where`, locked until the transaction ends."""
    table = connection.ops.quote_name(model._meta.db_table)
    sql = f"SELECT * FROM {table} WHERE {where}{for_update()}"
    rows = list(model.objects.raw(sql, params))
    return rows[0] if rows else None


def from_db(model: type[Model], field_name: str, value: Any) -> Any:
    """A column's value as the model's field gives it (JSON decoded, for example)."""
    field = model._meta.get_field(field_name)
    convert = getattr(field, "from_db_value", None)
    return convert(value, None, connection) if convert is not None else value


def save_columns(instance: Model, names: list[str]) -> None:
    """instance.save(update_fields=names) as one UPDATE written out: the values are adapted
    by the fields as the ORM would, but no signals are sent and no pre_save runs (so: for
    plain columns of models without save hooks, as on the vote path)."""
    meta = instance._meta
    quote = connection.ops.quote_name
    fields = [meta.get_field(name) for name in names]
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    values = [
        field.get_db_prep_save(getattr(instance, field.attname), connection) for field in fields
    ]
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s"
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, instance.pk])
