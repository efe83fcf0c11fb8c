"""Set-based SQL the ORM's bulk calls make too slow: prepared multi-row inserts, staging tables.

The order mirror writes ~100 values per order and the stock flow stages a whole catalogue of
ERP figures; both go through here, so names are always quoted from the model's meta and values
always passed as parameters.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import orjson
from django.db import connection, models
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.backends.utils import CursorWrapper

# SQLite allows 999 parameters a statement: an `__in` list is read or written in chunks.
IN_CHUNK = 900


def chunked(items: Sequence, size: int = IN_CHUNK) -> Iterator[Sequence]:
    """`items` in consecutive slices of at most `size`."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def model_names(model: type[models.Model], *field_names: str) -> tuple[str, dict[str, str]]:
    """The model's quoted table name, and the quoted column of each named field ("pk" too)."""
    qn, meta = connection.ops.quote_name, model._meta
    columns = {
        name: qn(meta.pk.column if name == "pk" else meta.get_field(name).column)
        for name in field_names
    }
    return qn(meta.db_table), columns


def insert_many(
    cursor: CursorWrapper,
    table: str,
    columns: Sequence[str],
    params: Sequence[Sequence[Any]],
    *,
    batch: int | None = None,
) -> None:
    """One prepared INSERT into `table` (names already quoted) run for every row of `params`."""
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608 - names quoted by the caller
        table, ", ".join(columns), ", ".join(["%s"] * len(columns))
    )
    for rows in chunked(params, batch or len(params) or 1):
        cursor.executemany(sql, rows)


class FastJSONEncoder(json.JSONEncoder):
    """Equivalent JSON to the standard encoder's (compact, UTF-8 rather than escaped), from
    orjson: encoding each 10-30 kB order payload for storage was a tenth of a pull. Anything
    orjson refuses (an integer beyond 64 bits, a Decimal) goes through the standard encoder.
    orjson would write a non-finite float as null; the payloads it encodes were decoded by
    orjson, which refuses NaN and infinities, so none can reach it."""

    def encode(self, o: Any) -> str:
        try:
            return orjson.dumps(o).decode()
        except TypeError:
            return super().encode(o)


def value_preparer(field: models.Field) -> Callable[[Any], Any]:
    """`field.get_db_prep_save` for this connection, short-cut where it is the identity.

    Django walks ~8 calls per value to return a finite Decimal or a str unchanged; with ~60
    decimals an order that was a quarter of a pull. The short cuts apply only where Django's
    own answer is that same object (base decimal adaptation, text fields); everything else,
    and any other type of value, takes the field's own path.
    """
    prepare = field.get_db_prep_save
    if isinstance(field, models.JSONField) and field.encoder is None:
        encode = connection.ops.adapt_json_value
        return lambda v: None if v is None else encode(v, FastJSONEncoder)
    if isinstance(field, models.DecimalField) and (
        type(connection.ops).adapt_decimalfield_value
        is BaseDatabaseOperations.adapt_decimalfield_value
    ):
        return lambda v: v if type(v) is Decimal and v.is_finite() else prepare(v, connection)
    if isinstance(field, models.CharField | models.TextField):
        return lambda v: v if type(v) is str else prepare(v, connection)
    return lambda v: prepare(v, connection)


def rows_insert(model: type[models.Model], rows: Sequence[dict]) -> None:
    """INSERT `rows` (field name -> value; absent fields take their default) as one prepared
    statement run for every row.

    `bulk_create` builds a model instance per row and compiles each value through several
    layers, which cost more than the database work itself; here each value goes through its
    field's own `get_db_prep_save` (or `value_preparer`'s identical short cut), so it is stored
    as the ORM would store it, on every backend.
    """
    if not rows:
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    defaults = {f.name: f.get_default() for f in fields if f.name not in rows[0]}
    prepare = [(f.name, value_preparer(f)) for f in fields]
    params = [
        [prep(row[name] if name in row else defaults[name]) for name, prep in prepare]
        for row in rows
    ]
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        insert_many(cursor, qn(model._meta.db_table), [qn(f.column) for f in fields], params)


@contextmanager
def staging_table(
    cursor: CursorWrapper,
    name: str,
    columns: dict[str, str],
    rows: Sequence[Sequence[Any]],
    *,
    batch: int = 5000,
) -> Iterator[str]:
    """A temporary table `name` (column -> SQL type) filled with `rows`; yields its quoted name.

    Dropped when the block ends; if the block raises, the caller's transaction rolls it back
    with everything else (a DROP would fail in an aborted PostgreSQL transaction anyway).
    """
    qn = connection.ops.quote_name
    table = qn(name)
    cursor.execute(f"DROP TABLE IF EXISTS {table}")
    cursor.execute(
        f"CREATE TEMPORARY TABLE {table} ("
        + ", ".join(f"{qn(column)} {kind}" for column, kind in columns.items())
        + ")"
    )
    insert_many(cursor, table, [qn(column) for column in columns], rows, batch=batch)
    yield table
    cursor.execute(f"DROP TABLE {table}")
