"""Writing one row without the ORM's per-call SQL building: a step's hot inserts (timeline lines,
outbox messages, cases, e-certificates) run on every staff action, and compiling an INSERT cost
more CPU than running it. For models with no save signals and no custom ``save``."""

from __future__ import annotations

from typing import TypeVar

from django.db import connections, models

_M = TypeVar("_M", bound=models.Model)


def insert_row(obj: _M, *, on_conflict: str | None = None) -> _M | None:
    """``obj.save()`` of a new row (auto id), with its INSERT built once per connection and
    model. ``on_conflict`` names a unique field: a row that already has ``obj``'s value there is
    left alone and None is returned (``INSERT ... ON CONFLICT DO NOTHING``, one statement instead
    of a lookup and an insert)."""
    model = type(obj)
    conn = connections[model.objects.db]
    cache = conn.__dict__.setdefault("_yiwang_insert_row", {})
    prepared = cache.get((model, on_conflict))
    if prepared is None:
        qn = conn.ops.quote_name
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        returning = conn.features.can_return_columns_from_insert
        if on_conflict is not None and not returning:
            raise NotImplementedError("on_conflict needs INSERT ... RETURNING")
        sql = (
            f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) "
            f"VALUES ({', '.join(['%s'] * len(fields))})"
            + (
                f" ON CONFLICT ({qn(model._meta.get_field(on_conflict).column)}) DO NOTHING"
                if on_conflict
                else ""
            )
            + (f" RETURNING {qn(model._meta.pk.column)}" if returning else "")
        )
        prepared = cache[(model, on_conflict)] = (sql, fields, returning)
    sql, fields, returning = prepared
    # As the ORM's insert: pre_save (auto_now_add stamps the object), then the database value.
    values = [f.get_db_prep_save(f.pre_save(obj, True), conn) for f in fields]
    with conn.cursor() as cursor:
        cursor.execute(sql, values)
        if returning:
            row = cursor.fetchone()
            if row is None:  # the conflict: nothing written
                return None
            obj.pk = row[0]
        else:
            obj.pk = conn.ops.last_insert_id(cursor, model._meta.db_table, model._meta.pk.column)
    obj._state.adding, obj._state.db = False, conn.alias
    return obj


def insert_rows(objs: list[_M]) -> list[_M]:
    """``bulk_create(objs)`` of new rows of one model (auto ids set on the objects), as one
    ``INSERT ... VALUES (...), (...) RETURNING id`` built here: for the handful of rows a bundle
    step writes per table (its branch applications, cases, processes), the ORM's bulk insert
    machinery cost more CPU than the rows. Ids are given in the order of the VALUES rows, as
    Django's bulk_create takes them."""
    if not objs:
        return objs
    model = type(objs[0])
    conn = connections[model.objects.db]
    if not conn.features.can_return_rows_from_bulk_insert:
        return model.objects.bulk_create(objs)
    qn = conn.ops.quote_name
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
    params: list = []
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="insert_rows")  # as bulk_create
        # As the ORM's insert: pre_save (auto_now_add stamps the object), then the database value.
        params += [f.get_db_prep_save(f.pre_save(obj, True), conn) for f in fields]
    sql = (
        f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) "
        f"VALUES {', '.join([row_sql] * len(objs))} RETURNING {qn(model._meta.pk.column)}"
    )
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        ids = [row[0] for row in cursor.fetchall()]
    for obj, pk in zip(objs, ids, strict=True):
        obj.pk = pk
        obj._state.adding, obj._state.db = False, conn.alias
    return objs
