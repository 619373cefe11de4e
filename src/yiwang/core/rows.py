"""Reading and writing one row without the ORM's per-call SQL building: a step's hot statements
(the case lock, timeline lines, outbox messages, cases, e-certificates) run on every staff action,
and compiling them cost more CPU than running them. For models with no save signals and no custom
``save``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.db import connections, models
from django.db.models.query import get_related_populators

_M = TypeVar("_M", bound=models.Model)


def insert_row(obj: _M, *, on_conflict: str | None = None) -> _M | None:
    """``obj.save()`` of a new row (auto id), with its INSERT built once per connection and
    model. ``on_conflict`` names a unique field: a row that already has ``obj``'s value there is
    left alone and None is returned (``INSERT ... ON CONFLICT DO NOTHING``, one statement instead
    of a lookup and an insert)."""
    model = type(obj)
    conn = connections[model.objects.db]
    if on_conflict is not None and not conn.features.can_return_columns_from_insert:
        # Without RETURNING a skipped row cannot be told from a written one: look first (the
        # two statements the ON CONFLICT form saves).
        field = model._meta.get_field(on_conflict)
        if model._default_manager.filter(**{field.attname: getattr(obj, field.attname)}).exists():
            return None
        return insert_row(obj)
    cache = conn.__dict__.setdefault("_yiwang_insert_row", {})
    prepared = cache.get((model, on_conflict))
    if prepared is None:
        qn = conn.ops.quote_name
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        returning = conn.features.can_return_columns_from_insert
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


def locked_row(
    model: type[models.Model], pk: Any, related: tuple[str, ...], *, lock: bool = True, by: str = "pk"
) -> Any:
    """``model.objects.select_for_update(of=("self",)).select_related(*related).get(pk=pk)``
    (without ``select_for_update`` when not ``lock``; by another unique column than the primary
    key with ``by``), compiled once per connection, model and ``related``: every step starts with
    one, and building the SQL of a row with four or five joined tables cost more CPU than running
    it. The rows become objects as the ORM's ModelIterable makes them (converters, ``from_db``,
    the related populators)."""
    rows = _select(model, pk, related, lock=lock, by=by)
    if not rows:
        raise model.DoesNotExist(f"{model._meta.object_name} matching query does not exist.")
    return rows[0]


def read_rows(model: type[_M], value: Any, related: tuple[str, ...] = (), *, by: str) -> list[_M]:
    """``list(model.objects.select_related(*related).filter(**{by: value}))`` in the database's
    order, compiled once per connection: for the reads every signed-in request makes (its session,
    its user, a staff member's roles), where building the SQL cost more CPU than running it."""
    return _select(model, value, related, lock=False, by=by)


def _select(model: type[_M], value: Any, related: tuple[str, ...], *, lock: bool, by: str) -> list[_M]:
    conn = connections[model.objects.db]
    cache = conn.__dict__.setdefault("_yiwang_locked_row", {})
    prepared = cache.get((model, related, lock, by))
    if prepared is None:
        base = model.objects.select_for_update(of=("self",)) if lock else model.objects.all()
        qs = base.select_related(*related).filter(**{by: -1})
        compiler = qs.query.get_compiler(connection=conn)
        sql, params = compiler.as_sql()
        # -1 (or "-1" for a text column) must be the statement's one parameter: otherwise it is
        # not the shape this expects, and the ORM runs the query as usual.
        if len(params) != 1 or str(params[0]) != "-1":
            return list(base.select_related(*related).filter(**{by: value}))
        select, klass_info = compiler.select, compiler.klass_info
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        init_list = [f[0].target.attname for f in select[start:end]]
        populators = get_related_populators(klass_info, select, conn.alias)
        # What results_iter would compute for every row, once.
        converters = compiler.get_converters([s[0] for s in select[0 : compiler.col_count]])
        prepared = cache[(model, related, lock, by)] = (
            sql,
            compiler,
            converters,
            start,
            end,
            init_list,
            populators,
        )
    sql, compiler, converters, start, end, init_list, populators = prepared
    with conn.cursor() as cursor:
        cursor.execute(sql, [value])
        rows = cursor.fetchall()
    if converters:
        rows = list(compiler.apply_converters(rows, converters))
    objs = []
    for row in rows:
        obj = model.from_db(conn.alias, init_list, row[start:end])
        for populator in populators:
            populator.populate(row, obj)
        objs.append(obj)
    return objs


_SENTINEL_INT = -987_650_000
_SENTINEL_STR = "\x00yiwang:"


def values_rows(
    model: type[models.Model], build: Callable[..., models.QuerySet], **types: type
) -> Callable[..., list[tuple]]:
    """A ``values_list`` query of ``model`` of a fixed shape, compiled once per connection:
    ``build`` is called once with a sentinel for each parameter named in ``types`` (``int`` or
    ``str``), its SQL kept, and each call of the returned function runs that SQL with the real
    values: ``colleagues = values_rows(StaffRole, lambda role, dept: ..., role=str, dept=int)``,
    then ``colleagues(role="approver", dept=7)``. For a page's small lookups whose SQL building
    cost more CPU than the statement. A parameter the ORM changed on its way into the SQL (a
    LIKE pattern) is not found again: such a query then runs through the ORM every time."""
    sentinels = {
        name: (_SENTINEL_INT - i if kind is int else f"{_SENTINEL_STR}{i}")
        for i, (name, kind) in enumerate(types.items())
    }
    name_of = {value: name for name, value in sentinels.items()}

    def run(**values: Any) -> list[tuple]:
        conn = connections[model.objects.db]
        cache = conn.__dict__.setdefault("_yiwang_values_rows", {})
        prepared = cache.get(run)
        if prepared is None:
            compiler = build(**sentinels).query.get_compiler(connection=conn)
            sql, params = compiler.as_sql()
            # Each statement parameter: (the name of a sentinel, None) or (None, a constant).
            slots = [(name_of[p], None) if _hashable(p) and p in name_of else (None, p) for p in params]
            if sorted(n for n, _ in slots if n) != sorted(sentinels):
                prepared = cache[run] = (None, None, None, None)
            else:
                columns = [s[0] for s in compiler.select[0 : compiler.col_count]]
                prepared = cache[run] = (sql, slots, compiler, compiler.get_converters(columns))
        sql, slots, compiler, converters = prepared
        if sql is None:
            return list(build(**values))
        with conn.cursor() as cursor:
            cursor.execute(sql, [values[n] if n else constant for n, constant in slots])
            rows = cursor.fetchall()
        if converters:
            rows = [tuple(r) for r in compiler.apply_converters(rows, converters)]
        return rows

    return run


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True
