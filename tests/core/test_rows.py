"""core.rows.insert_row: the step's one-statement insert, and its ON CONFLICT form."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from yiwang.core.rows import insert_row, insert_rows
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
