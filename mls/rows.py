"""Hand-written SELECTs read into model instances exactly as the ORM reads them.

For the few queries that run on every API request, where building the query with the ORM costs more than running
it: the caller lookup (`selectors.api_caller`) and the learner lookup of an upsert. Select `columns(model, alias)`
for each model, in order, and read each row with `instances(row, models)`.
"""

from collections.abc import Callable, Sequence
from functools import cache

from django.db import connection
from django.db.models import Model
from django.db.models.expressions import Col


def columns(model: type[Model], alias: str) -> str:
    """Every concrete column of `model`, qualified by the table `alias`, in the order `instances` reads them."""
    return ", ".join(f"{alias}.{connection.ops.quote_name(field.column)}" for field in model._meta.concrete_fields)


def instances(row: Sequence[object], models: Sequence[type[Model]]) -> list[Model]:
    """A row of `columns` of each model, in turn, read into instances as the ORM reads them (with the database's
    converters: SQLite answers moments as text, for one)."""
    read, start = [], 0
    for model in models:
        attnames, readers = _readers(model)
        values = []
        for value, (column, converters) in zip(row[start : start + len(attnames)], readers, strict=True):
            for convert in converters:
                value = convert(value, column, connection)
            values.append(value)
        read.append(model.from_db(connection.alias, attnames, values))
        start += len(attnames)
    return read


@cache
def _readers(model: type[Model]) -> tuple[list[str], list[tuple[Col, list[Callable]]]]:
    """The attribute names of the model's `columns`, and each column with the converters the database needs."""
    fields = model._meta.concrete_fields
    columns = [field.get_col(model._meta.db_table) for field in fields]
    converters = [
        connection.ops.get_db_converters(column) + field.get_db_converters(connection)
        for field, column in zip(fields, columns, strict=True)
    ]
    return [field.attname for field in fields], list(zip(columns, converters, strict=True))
