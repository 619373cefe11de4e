"""core.rows.locked_row: what the ORM's ``select_for_update().select_related().get()`` returns and
sends, from a statement compiled once. These fail first when a Django upgrade changes the
internals it relies on (the compiler's ``select``/``klass_info``, the related populators, the
converters, ``from_db``): then fix ``locked_row`` or drop it for the ORM."""

from __future__ import annotations

from collections.abc import Iterator
from unittest import mock

import pytest
from django.db import connection, connections, models, transaction
from django.db.models import signals
from django.db.models.sql.compiler import SQLCompiler
from django.test.utils import CaptureQueriesContext

from tests.cases.conftest import _fast, submitted_case, world  # noqa: F401  (fixtures reused)
from yiwang.cases.actions import CaseAction
from yiwang.cases.models import Case
from yiwang.core.rows import SignalledModel, locked_row
from yiwang.regions.models import Region

pytestmark = pytest.mark.django_db

RELATED = (*CaseAction.related, "item_version", "delivery")


def _fields(obj: models.Model) -> dict[str, object]:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


@pytest.fixture
def case(world) -> Case:  # noqa: F811  (the imported fixture)
    return submitted_case(world)


def test_the_same_objects_as_the_orm(case: Case) -> None:
    """Every column of the case and of each joined row, the joined objects cached on it (no
    query when read), and a missing nullable relation as None, as the ORM gives them."""
    with transaction.atomic():
        ours = locked_row(Case, case.pk, RELATED)
        theirs = Case.objects.select_for_update(of=("self",)).select_related(*RELATED).get(pk=case.pk)
    assert _fields(ours) == _fields(theirs) and not ours._state.adding and ours._state.db == "default"
    with CaptureQueriesContext(connection) as ctx:
        for path in ("department", "region", "applicant", "item_version"):
            assert _fields(getattr(ours, path)) == _fields(getattr(theirs, path)), path
        assert _fields(ours.applicant.person) == _fields(theirs.applicant.person)
    assert ctx.captured_queries == []
    with pytest.raises(Case.delivery.RelatedObjectDoesNotExist):  # no delivery row: not a query
        ours.delivery  # noqa: B018


def test_the_orms_own_sql_compiled_once(case: Case) -> None:
    """The statement sent is the one the ORM sends for the same query, and a second call does not
    compile again."""
    with transaction.atomic():
        with CaptureQueriesContext(connection) as orm:
            list(
                Case.objects.select_for_update(of=("self",))
                .select_related(*RELATED)
                .filter(pk=case.pk)
                .order_by()
            )
        with CaptureQueriesContext(connection) as ours:
            locked_row(Case, case.pk, RELATED)
        assert [q["sql"] for q in ours.captured_queries] == [q["sql"] for q in orm.captured_queries[:1]]
        with mock.patch.object(SQLCompiler, "as_sql", side_effect=AssertionError("compiled again")):
            assert locked_row(Case, case.pk, RELATED).pk == case.pk


def test_by_another_unique_column_without_the_lock(case: Case) -> None:
    found = locked_row(Case, case.number, ("department",), lock=False, by="number")
    assert found.pk == case.pk and found.department.pk == case.department_id
    with pytest.raises(Case.DoesNotExist):
        locked_row(Case, "no-such-number", ("department",), lock=False, by="number")


def test_a_missing_row_raises_does_not_exist() -> None:
    with pytest.raises(Region.DoesNotExist), transaction.atomic():
        locked_row(Region, -1, ())


@pytest.fixture
def receiver() -> Iterator[None]:
    def noted(**kwargs: object) -> None:
        pass

    signals.post_save.connect(noted, sender=Region)
    yield
    signals.post_save.disconnect(noted, sender=Region)


def test_refuses_a_model_with_save_receivers(receiver: None) -> None:
    region = Region.objects.create(code="990001", name="甲县", level=3)
    with pytest.raises(SignalledModel):
        locked_row(Region, region.pk, (), lock=False)


def test_a_lookup_that_rewrites_the_key_runs_through_the_orm() -> None:
    """``startswith`` turns the key into a LIKE pattern: not the one-parameter shape, so each
    call is the ORM's query (still right)."""
    region = Region.objects.create(code="992001", name="乙县", level=3)
    for _ in range(2):
        assert locked_row(Region, "99200", (), lock=False, by="code__startswith").pk == region.pk
    assert (
        connections["default"].__dict__["_yiwang_locked_row"][(Region, (), False, "code__startswith")] is None
    )
