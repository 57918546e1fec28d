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
strings, bools, dates, aware datetimes, Decimals, bytes, None, and for a JSON field
what it holds (a dict, a list, ...). One row is worth it too: a webhook's request row
costs ~0.2 ms this way against ~1 ms through ``Model.objects.create``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, models, transaction
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


def _binary_value(field: models.Field[Any, Any], value: Any) -> Any:
    """``value`` as the server-binding cursor sends it: JSON wrapped for ``jsonb``."""
    if isinstance(field, models.JSONField) and value is not None:
        from psycopg.types.json import Jsonb

        encoder = field.encoder
        return Jsonb(value, dumps=None if encoder is None else encoder().encode)
    return value


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


@dataclass(frozen=True)
class _InsertPlan:
    columns: list[models.Field[Any, Any]]
    rest: list[models.Field[Any, Any]]  # the fields not named: given what Model() gives
    head: str
    tail: str
    select: str  # PostgreSQL: the rows from one array per column
    one: str  # PostgreSQL: a single row's values (no arrays to build and unpack)


@functools.cache
def _insert_plan(
    model: type[models.Model],
    fields: tuple[str, ...],
    ignore_conflicts: bool,
    returning: tuple[str, ...],
    vendor: str,
) -> _InsertPlan:
    """The statement's text for these arguments, made once per process (building it
    took ~0.3 ms, as long as a small insert itself)."""
    meta = model._meta
    columns = [meta.get_field(name) for name in fields]
    named = {f.name for f in columns}
    rest = [
        f
        for f in meta.concrete_fields
        if not f.primary_key and f.name not in named and not getattr(f, "generated", False)
    ]
    quote = connection.ops.quote_name
    names = ", ".join(quote(f.column) for f in [*columns, *rest])
    head = f"INSERT INTO {quote(meta.db_table)} ({names}) "
    tail = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    if returning:
        tail += " RETURNING " + ", ".join(quote(meta.get_field(n).column) for n in returning)
    select = one = ""
    if vendor == "postgresql":
        arrays = ", ".join(f"%b::{_array_type(f)}" for f in columns)
        scalars = "".join(f", CAST(%b AS {f.db_type(connection)})" for f in rest)
        select = f"SELECT u.*{scalars} FROM unnest({arrays}) AS u"
        one = (
            "VALUES (" + ", ".join(f"%b::{f.db_type(connection)}" for f in [*columns, *rest]) + ")"
        )
    return _InsertPlan(columns, rest, head, tail, select, one)


def _defaults(fields: Sequence[models.Field[Any, Any]]) -> list[Any]:
    """What ``Model()`` gives fields not named: the current time for ``auto_now(_add)``,
    else their default (None for a nullable one without)."""
    now = timezone.now()
    return [
        now
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        else f.get_default()
        for f in fields
    ]


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
    plan = _insert_plan(model, tuple(fields), ignore_conflicts, tuple(returning), connection.vendor)
    columns, rest = plan.columns, plan.rest
    fixed = _defaults(rest)
    out: list[tuple[Any, ...]] = []
    with _cursor() as cursor:
        if plan.one and len(rows) == 1:
            values = [_binary_value(f, v) for f, v in zip(columns, rows[0], strict=True)]
            values += [_binary_value(f, v) for f, v in zip(rest, fixed, strict=True)]
            cursor.execute(plan.head + plan.one + plan.tail, values)
            if returning:
                out.extend(tuple(r) for r in cursor.fetchall())
            return out
        if plan.select:
            params: list[Any] = [
                [_binary_value(f, value) for value in column]
                for f, column in zip(columns, zip(*rows, strict=True), strict=True)
            ]
            fixed = [_binary_value(f, value) for f, value in zip(rest, fixed, strict=True)]
            cursor.execute(
                plan.head + plan.select + plan.tail,
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
            cursor.execute(
                plan.head + "VALUES " + ", ".join([one] * len(chunk)) + plan.tail, values
            )
            if returning:
                out.extend(tuple(r) for r in cursor.fetchall())
    return out


def insert_with_children(
    parent: type[models.Model],
    parent_fields: Sequence[str],
    parent_row: Sequence[Any],
    child: type[models.Model],
    link: str,
    child_fields: Sequence[str],
    child_rows: Sequence[Sequence[Any]],
) -> tuple[int, int]:
    """One row of ``parent`` and its ``child_rows`` pointing at it through ``link``; a
    child a unique constraint refuses is skipped. Returns the parent's id and how many
    children were stored.

    On PostgreSQL this is one statement (both inserts in a ``WITH``), in autocommit: a
    webhook acknowledgement stored in a transaction waited on the server six times
    (the health check, BEGIN, two inserts and COMMIT among them), now twice, and the
    round trips were most of its time. Elsewhere, two inserts in a transaction.
    """
    assert parent._meta.pk is not None and child._meta.pk is not None
    pk = parent._meta.pk.name
    if connection.vendor != "postgresql" or not child_rows:
        with transaction.atomic():
            [(parent_id,)] = insert_values(parent, parent_fields, [parent_row], returning=[pk])
            stored = insert_values(
                child,
                [link, *child_fields],
                [(parent_id, *row) for row in child_rows],
                ignore_conflicts=True,
                returning=[child._meta.pk.name],
            )
        return int(parent_id), len(stored)
    first, then, sql = _with_children_plan(
        parent, tuple(parent_fields), child, link, tuple(child_fields), len(child_rows) == 1
    )
    values = [_binary_value(f, v) for f, v in zip(first.columns, parent_row, strict=True)]
    values += [_binary_value(f, v) for f, v in zip(first.rest, _defaults(first.rest), strict=True)]
    children = then.columns[1:]
    if len(child_rows) == 1:
        rows = [_binary_value(f, v) for f, v in zip(children, child_rows[0], strict=True)]
    else:
        rows = [
            [_binary_value(f, value) for value in column]
            for f, column in zip(children, zip(*child_rows, strict=True), strict=True)
        ]
    fixed = [_binary_value(f, v) for f, v in zip(then.rest, _defaults(then.rest), strict=True)]
    with _cursor() as cursor:
        # In the order they appear: a child's values before the defaults, arrays after.
        params = [*values, *rows, *fixed] if len(child_rows) == 1 else [*values, *fixed, *rows]
        cursor.execute(sql, params)
        parent_id, stored = cursor.fetchone()
    return int(parent_id), int(stored)


@functools.cache
def _with_children_plan(
    parent: type[models.Model],
    parent_fields: tuple[str, ...],
    child: type[models.Model],
    link: str,
    child_fields: tuple[str, ...],
    single: bool,
) -> tuple[_InsertPlan, _InsertPlan, str]:
    """PostgreSQL's statement for ``insert_with_children``, made once per process: one
    child as plain values, several as one array per column."""
    assert parent._meta.pk is not None
    first = _insert_plan(parent, parent_fields, False, (parent._meta.pk.name,), "postgresql")
    then = _insert_plan(child, (link, *child_fields), True, (), "postgresql")
    children = then.columns[1:]
    if single:
        rows, source = "".join(f", %b::{f.db_type(connection)}" for f in children), "p"
    else:
        unnest = ", ".join(f"%b::{_array_type(f)}" for f in children)
        rows, source = ", u.*", f"p, unnest({unnest}) AS u"
    scalars = "".join(f", CAST(%b AS {f.db_type(connection)})" for f in then.rest)
    sql = (
        f"WITH p AS ({first.head}{first.one}{first.tail}), "
        f"c AS ({then.head}SELECT p.*{rows}{scalars} FROM {source}{then.tail} RETURNING 1) "
        "SELECT p.*, (SELECT count(*) FROM c) FROM p"
    )
    return first, then, sql


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
