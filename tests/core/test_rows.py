"""core.rows.insert_row: the step's one-statement insert, and its ON CONFLICT form."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from yiwang.core.rows import insert_row, insert_rows, locked_row, read_rows, values_rows
from yiwang.regions.models import Region

pytestmark = pytest.mark.django_db


def _region(code: str, name: str) -> Region:
    return Region(code=code, name=name, level=3, path=f"{code}/")  # path: what save() would set


def test_insert_row_writes_the_row_and_sets_its_id():
    row = insert_row(_region("990001", "甲县"))
    assert row is not None and row.pk is not None and not row._state.adding
    assert Region.objects.get(pk=row.pk).name == "甲县"


def test_on_conflict_leaves_the_existing_row_and_returns_none():
    first = insert_row(_region("990002", "乙县"), on_conflict="code")
    assert first is not None
    assert insert_row(_region("990002", "丙县"), on_conflict="code") is None
    assert list(Region.objects.filter(code="990002").values_list("pk", "name")) == [(first.pk, "乙县")]


def test_without_on_conflict_a_duplicate_still_fails():
    insert_row(_region("990003", "丁县"))
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_row(_region("990003", "戊县"))


def test_insert_rows_sets_each_id_in_order_and_writes_every_row():
    rows = insert_rows([_region(f"99100{i}", f"县{i}") for i in range(5)])
    assert all(r.pk is not None and not r._state.adding for r in rows)
    assert [Region.objects.get(pk=r.pk).name for r in rows] == [f"县{i}" for i in range(5)]
    assert insert_rows([]) == []


def test_insert_rows_takes_a_related_object_saved_after_it_was_assigned():
    parent = _region("991100", "市")
    child = Region(code="991101", name="区", level=3, path="991100/991101/", parent=parent)
    insert_rows([parent])  # the parent gets its id after the child points at it, as in bulk_create
    insert_rows([child])
    assert Region.objects.get(pk=child.pk).parent_id == parent.pk


def test_on_conflict_without_returning_looks_first(monkeypatch):
    """A database that cannot return the id of an insert (no RETURNING) still skips the
    conflicting row and writes a new one."""
    from django.db import connection

    monkeypatch.setattr(connection.features, "can_return_columns_from_insert", False)
    connection.__dict__.pop("_yiwang_insert_row", None)  # built with RETURNING before
    try:
        first = insert_row(_region("992001", "己县"), on_conflict="code")
        assert first is not None and first.pk == Region.objects.get(code="992001").pk
        assert insert_row(_region("992001", "庚县"), on_conflict="code") is None
        assert list(Region.objects.filter(code="992001").values_list("name", flat=True)) == ["己县"]
    finally:
        connection.__dict__.pop("_yiwang_insert_row", None)


def test_read_rows_by_a_foreign_key_gives_every_row_with_its_related_object():
    parent = insert_row(_region("993000", "市"))
    for i in range(3):
        Region.objects.create(code=f"99300{i + 1}", name=f"区{i}", level=3, parent=parent)
    rows = read_rows(Region, parent.pk, ("parent",), by="parent")
    assert sorted(r.name for r in rows) == ["区0", "区1", "区2"]
    assert all(r.parent.name == "市" and not r._state.adding for r in rows)
    assert read_rows(Region, -5, ("parent",), by="parent") == []


def test_read_rows_by_a_text_column_and_the_same_statement_again():
    """A text column takes its sentinel as text; the second call reuses the compiled statement
    (no new SQL is built: the ORM's compiler is not called)."""
    from unittest import mock

    from django.db.models.sql.compiler import SQLCompiler

    insert_row(_region("994001", "庚县"))
    assert [r.code for r in read_rows(Region, "994001", by="code")] == ["994001"]
    with mock.patch.object(SQLCompiler, "as_sql", side_effect=AssertionError("compiled again")):
        assert [r.name for r in read_rows(Region, "994001", by="code")] == ["庚县"]
        assert read_rows(Region, "nope", by="code") == []


def test_locked_row_raises_does_not_exist_for_a_missing_row():
    with pytest.raises(Region.DoesNotExist), transaction.atomic():
        locked_row(Region, -1, ())


def test_values_rows_runs_the_built_query_with_each_calls_values():
    from unittest import mock

    from django.db.models.sql.compiler import SQLCompiler

    parent = insert_row(_region("995000", "市"))
    for i in range(3):
        Region.objects.create(code=f"99500{i + 1}", name=f"区{i}", level=3, parent=parent)
    query = values_rows(
        Region,
        lambda parent, code: (
            Region.objects.filter(parent_id=parent)
            .exclude(code=code)
            .order_by("code")
            .values_list("code", "name")
        ),
        parent=int,
        code=str,
    )
    assert query(parent=parent.pk, code="995002") == [("995001", "区0"), ("995003", "区2")]
    with mock.patch.object(SQLCompiler, "as_sql", side_effect=AssertionError("compiled again")):
        assert query(parent=parent.pk, code="995001") == [("995002", "区1"), ("995003", "区2")]
        assert query(parent=-3, code="x") == []


def test_values_rows_falls_back_to_the_orm_when_a_value_is_rewritten():
    """``startswith`` turns the value into a LIKE pattern: the sentinel is not found in the
    statement's parameters, and each call builds the query through the ORM (still right)."""
    insert_row(_region("996001", "辛县"))
    insert_row(_region("996002", "壬县"))
    query = values_rows(
        Region,
        lambda prefix: Region.objects.filter(code__startswith=prefix).order_by("code").values_list("code"),
        prefix=str,
    )
    assert query(prefix="99600") == [("996001",), ("996002",)]
    assert query(prefix="996002") == [("996002",)]
