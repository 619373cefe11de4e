"""``ValuesInsertJSONField``: the same values as ``JSONField``, and a multi-row insert on
PostgreSQL that is a ``VALUES`` list, which Django gives a field with ``get_placeholder``."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import JSONField
from django.test.utils import CaptureQueriesContext

from yiwang.cases.models import OutboxMessage
from yiwang.core.fields import ValuesInsertJSONField
from yiwang.workflow.models import ProcessDefinition, WorkflowInstance

pytestmark = pytest.mark.django_db

DOC = {"name": "王\"小'明\\", "steps": [{"a": i, "b": "x" * 50} for i in range(30)], "none": None}


def _definition() -> ProcessDefinition:
    # Rows of a definition that is never run: only the state column's inserts are under test.
    return ProcessDefinition.objects.create(
        key="fields-test", name="fields test", process_id="p", bpmn_xml="<definitions/>", checksum="0"
    )


def test_is_a_json_field_with_the_same_column() -> None:
    field = WorkflowInstance._meta.get_field("state")
    assert isinstance(field, ValuesInsertJSONField) and isinstance(field, JSONField)
    assert field.db_type(connection) == JSONField().db_type(connection)


def test_values_round_trip_through_a_bulk_insert() -> None:
    definition = _definition()
    rows = WorkflowInstance.objects.bulk_create(
        [
            WorkflowInstance(case_id=10_000_000 + i, definition=definition, state={**DOC, "i": i})
            for i in range(7)
        ]
    )
    read = {w.case_id: w.state for w in WorkflowInstance.objects.filter(pk__in=[r.pk for r in rows])}
    assert read == {10_000_000 + i: {**DOC, "i": i} for i in range(7)}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="UNNEST inserts are PostgreSQL's")
def test_multi_row_insert_is_values_where_json_field_gets_unnest() -> None:
    """Fails if Django stops honouring ``get_placeholder`` (then the field has no reason to be)."""
    definition = _definition()
    with CaptureQueriesContext(connection) as ours:
        WorkflowInstance.objects.bulk_create(
            [WorkflowInstance(case_id=20_000_000 + i, definition=definition, state=DOC) for i in range(3)]
        )
    with CaptureQueriesContext(connection) as plain:
        OutboxMessage.objects.bulk_create(
            [
                OutboxMessage(
                    channel="sms", recipient_cipher="x", recipient_masked="x", template="t", payload=DOC
                )
                for _ in range(3)
            ]
        )
    insert = [q["sql"] for q in ours.captured_queries if q["sql"].startswith("INSERT")]
    assert insert and "UNNEST" not in insert[0] and "VALUES" in insert[0]
    plain_insert = [q["sql"] for q in plain.captured_queries if q["sql"].startswith("INSERT")]
    assert plain_insert and "UNNEST" in plain_insert[0]
