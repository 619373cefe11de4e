"""yiwang's PostgreSQL backend (yiwang/core/postgresql): Django's, with a bulk insert of a few
rows written as a VALUES list and a large one as UNNEST arrays; both store the same rows."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from yiwang.core.models import DeferredJob
from yiwang.core.postgresql.compiler import VALUES_UP_TO_ROWS

pytestmark = pytest.mark.django_db


def _insert(n: int) -> str:
    jobs = [
        DeferredJob(task="t", args=[i, 'quote " and \\ backslash'], kwargs={"k": f"值{i}"}) for i in range(n)
    ]
    with CaptureQueriesContext(connection) as ctx:
        DeferredJob.objects.bulk_create(jobs)
    return next(q["sql"] for q in ctx.captured_queries if q["sql"].startswith("INSERT"))


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("the backend is PostgreSQL's")


def test_the_engine_is_yiwangs():
    assert connection.ops.compiler_module == "yiwang.core.postgresql.compiler"


@pytest.mark.parametrize(("rows", "shape"), [(7, "VALUES"), (VALUES_UP_TO_ROWS + 1, "UNNEST")])
def test_bulk_insert_shape_and_contents(rows, shape):
    sql = _insert(rows)
    assert shape in sql and ("UNNEST" in sql) == (shape == "UNNEST")
    stored = list(DeferredJob.objects.order_by("pk").values_list("args", "kwargs"))
    assert stored == [([i, 'quote " and \\ backslash'], {"k": f"值{i}"}) for i in range(rows)]
