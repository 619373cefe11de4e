"""core.rows.insert_row: the step's one-statement insert, and its ON CONFLICT form."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from yiwang.core.rows import insert_row
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
