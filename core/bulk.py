"""Writing many rows in one statement, from plain tuples.

For a batch job's thousands of rows (the follow-up run), measured on PostgreSQL:

- Django's ``bulk_update`` writes ``SET f = CASE WHEN pk = 1 THEN ... WHEN pk = 2 ...``;
  each row's lookup walks the whole CASE, so n rows cost O(n²) (2,000 follow-up
  states, 9 fields: ~5 s). ``update_from_values`` joins the table to the new values.
- A multi-row ``INSERT ... VALUES (...), (...)`` of 2,000 rows × 10 columns is 20,000
  literals for the server to parse (~1.0 s on a loaded machine); the same rows as one
  array per column through ``unnest`` take ~0.35 s. ``bulk_create`` adds ~30 µs of
  model instance and compiler work per row besides.

- Django's cursor binds parameters on the client: each array is quoted into the SQL
  text element by element in Python (~0.5 ms a row over ten columns). A cursor that
  binds on the server sends them in binary, as they are (``_cursor``).

So on PostgreSQL both helpers send one binary array per column (``unnest``); elsewhere
(SQLite: development) they use ``VALUES`` / ``bulk_update``. Values are plain: ints,
strings, bools, dates, aware datetimes, Decimals, None (no JSON).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection, models
from django.db.backends.utils import CursorWrapper
from django.utils import timezone


def _cursor() -> CursorWrapper:
    """On PostgreSQL, a cursor that binds parameters on the server (``%b``: binary),
    wrapped as Django wraps its own (execute wrappers, the query log when on)."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    import psycopg

    connection.ensure_connection()
    raw = psycopg.Cursor(connection.connection)
    if connection.queries_logged:
        return connection.make_debug_cursor(raw)
    return connection.make_cursor(raw)


def _array_type(field: models.Field[Any, Any]) -> str:
    db_type = field.db_type(connection)
    assert db_type is not None, field
    return f"{db_type}[]"


def update_from_values(
    model: type[models.Model], fields: Sequence[str], rows: Sequence[Sequence[Any]]
) -> int:
    """``UPDATE table SET f = v.f, ... FROM <the rows> v WHERE table.pk = v.pk``.

    ``rows`` are ``(pk, value of fields[0], value of fields[1], ...)``, values as the
    model's attributes hold them. Returns the rows updated.
    """
    if not rows:
        return 0
    meta = model._meta
    columns = [meta.get_field(name) for name in fields]
    if connection.vendor != "postgresql":
        objects = []
        for row in rows:
            obj = model(pk=row[0])
            for field, value in zip(columns, row[1:], strict=True):
                setattr(obj, field.attname, value)
            objects.append(obj)
        return model._default_manager.bulk_update(objects, [f.name for f in columns])
    quote = connection.ops.quote_name
    table, pk = quote(meta.db_table), meta.pk
    assert pk is not None
    names = ["k", *(f"c{i}" for i in range(len(columns)))]
    arrays = ", ".join(f"%b::{_array_type(f)}" for f in [pk, *columns])
    sets = ", ".join(f"{quote(f.column)} = v.c{i}" for i, f in enumerate(columns))
    params = [list(column) for column in zip(*rows, strict=True)]
    with _cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {sets} FROM unnest({arrays}) AS v({', '.join(names)}) "  # noqa: S608
            f"WHERE {table}.{quote(pk.column)} = v.k",
            params,
        )
        return int(cursor.rowcount)


def insert_values(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    ignore_conflicts: bool = False,
    returning: Sequence[str] = (),
) -> list[tuple[Any, ...]]:
    """``INSERT INTO table (fields) <the rows> [ON CONFLICT DO NOTHING] [RETURNING ...]``.

    With ``ignore_conflicts`` a row a unique constraint refuses is skipped, and only
    the rows stored come back (in no promised order: match them by what they return).
    The fields not named get what ``Model()`` would give them: the current time for
    ``auto_now(_add)``, else their default (None for a nullable one without).
    """
    if not rows:
        return []
    meta = model._meta
    columns = [meta.get_field(name) for name in fields]
    named = {f.name for f in columns}
    now = timezone.now()
    rest = [
        f
        for f in meta.concrete_fields
        if not f.primary_key and f.name not in named and not getattr(f, "generated", False)
    ]
    fixed = [
        now
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        else f.get_default()
        for f in rest
    ]
    quote = connection.ops.quote_name
    names = ", ".join(quote(f.column) for f in [*columns, *rest])
    head = f"INSERT INTO {quote(meta.db_table)} ({names}) "
    tail = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    if returning:
        tail += " RETURNING " + ", ".join(quote(meta.get_field(n).column) for n in returning)
    out: list[tuple[Any, ...]] = []
    with _cursor() as cursor:
        if connection.vendor == "postgresql":
            arrays = ", ".join(f"%b::{_array_type(f)}" for f in columns)
            scalars = "".join(f", CAST(%b AS {f.db_type(connection)})" for f in rest)
            params: list[Any] = [list(column) for column in zip(*rows, strict=True)]
            cursor.execute(
                head + f"SELECT u.*{scalars} FROM unnest({arrays}) AS u" + tail,  # noqa: S608
                [*fixed, *params],  # in the order they appear
            )
            if returning:
                out.extend(tuple(r) for r in cursor.fetchall())
            return out
        fixed = [f.get_db_prep_save(v, connection) for f, v in zip(rest, fixed, strict=True)]
        width = len(columns) + len(rest)
        per_statement = max(1, (connection.features.max_query_params or 999) // width)
        one = "(" + ", ".join(["%s"] * width) + ")"
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            values: list[Any] = []
            for row in chunk:
                values.extend(
                    f.get_db_prep_save(value, connection)
                    for f, value in zip(columns, row, strict=True)
                )
                values.extend(fixed)
            cursor.execute(head + "VALUES " + ", ".join([one] * len(chunk)) + tail, values)
            if returning:
                out.extend(tuple(r) for r in cursor.fetchall())
    return out


def reserve_ids(model: type[models.Model], count: int) -> list[int] | None:
    """``count`` primary keys drawn from the table's sequence, for rows inserted later in
    the transaction with those ids (rows pointing at them can go in first: PostgreSQL
    checks Django's foreign keys at commit). None on other databases (no sequences)."""
    if connection.vendor != "postgresql" or count <= 0:
        return None
    meta = model._meta
    assert meta.pk is not None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, count],
        )
        return [row[0] for row in cursor.fetchall()]
