"""One row by its key, with its joined rows, from a statement the ORM compiles once per
connection: ``locked_row``.

A case step starts by locking its case row together with the four or five rows the action reads
(``cases.actions.CaseAction.run``), and the case pages read the same join by the case's id or
number. ``bench/row_read.py`` compares this with the ORM's ``select_for_update().select_related()
.get()``: building that join's SQL anew on each call costs several times the statement itself.
Here the ORM builds it once, and each call runs it with the new key and turns the rows into
objects with the ORM's own pieces (``from_db``, the converters, the related populators), as
``ModelIterable`` does. tests/core/test_rows.py checks that it returns what the ORM returns and
sends the ORM's own SQL, so that a change of these Django internals fails there first.

Reads only: nothing here writes a row or bypasses ``save``. A model with ``pre_init``,
``post_init``, ``pre_save`` or ``post_save`` receivers is refused (``SignalledModel``), since code
that listens to a model's signals expects the ORM's full path for it.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import connections, models
from django.db.models import signals
from django.db.models.query import get_related_populators

_M = TypeVar("_M", bound=models.Model)

_SIGNALS = (signals.pre_init, signals.post_init, signals.pre_save, signals.post_save)


class SignalledModel(TypeError):
    """``locked_row`` was asked for a model that has signal receivers."""


def locked_row(
    model: type[_M], pk: Any, related: tuple[str, ...], *, lock: bool = True, by: str = "pk"
) -> _M:
    """``model.objects.select_for_update(of=("self",)).select_related(*related).get(pk=pk)``,
    without ``select_for_update`` when not ``lock``, by another unique column than the primary
    key with ``by``. Raises ``model.DoesNotExist`` for no row, ``SignalledModel`` for a model with
    init or save receivers. A shape whose SQL does not take the key as its only parameter runs
    through the ORM each time."""
    if any(signal.has_listeners(model) for signal in _SIGNALS):
        raise SignalledModel(f"{model._meta.label} has signal receivers: use the ORM")
    base = model._default_manager.select_for_update(of=("self",)) if lock else model._default_manager.all()
    conn = connections[base.db]
    cache = conn.__dict__.setdefault("_yiwang_locked_row", {})
    key = (model, related, lock, by)
    prepared = cache.get(key, ())
    if prepared is None:  # a shape this does not take (below)
        return base.select_related(*related).get(**{by: pk})
    if prepared == ():
        query = base.select_related(*related).filter(**{by: -1}).order_by()
        compiler = query.query.get_compiler(connection=conn)
        sql, params = compiler.as_sql()
        # -1 (or "-1" for a text column) must be the statement's one parameter: otherwise the SQL
        # is not of the shape this expects, and the ORM runs the query, now and on later calls.
        if len(params) != 1 or str(params[0]) != "-1":
            cache[key] = None
            return base.select_related(*related).get(**{by: pk})
        select, klass_info = compiler.select, compiler.klass_info
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        prepared = cache[key] = (
            sql,
            compiler,
            # What ModelIterable works out once per query: the converters, the model's columns,
            # and a populator for each joined row.
            compiler.get_converters([s[0] for s in select[0 : compiler.col_count]]),
            start,
            end,
            [f[0].target.attname for f in select[start:end]],
            get_related_populators(klass_info, select, conn.alias),
        )
    sql, compiler, converters, start, end, init_list, populators = prepared
    with conn.cursor() as cursor:
        cursor.execute(sql, [pk])
        row = cursor.fetchone()
    if row is None:
        raise model.DoesNotExist(f"{model._meta.object_name} matching query does not exist.")
    if converters:
        row = next(iter(compiler.apply_converters([row], converters)))
    obj = model.from_db(conn.alias, init_list, row[start:end])
    for populator in populators:
        populator.populate(row, obj)
    return obj
