"""CPU time of a bundle acceptance's kind of insert: seven rows of a 3 KB JSON document in one
``bulk_create``, as ``ValuesInsertJSONField`` writes it (a ``VALUES`` list) against Django's
``JSONField`` (on PostgreSQL an ``UNNEST`` of one ``jsonb[]`` array). The reason the field exists;
if the two come close, use ``JSONField``. Each insert runs in a savepoint rolled back at once.

Runs on the database the settings name (PostgreSQL: ``DATABASE_URL``; on SQLite both are the same
``VALUES`` list). Prints one JSON object:

    DATABASE_URL=postgres://... PYTHONPATH=src python bench/json_insert.py
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")

import django  # noqa: E402

from cputime import cpu_us  # noqa: E402  (bench/ is the script's directory)

django.setup()

from django.db import connection, transaction  # noqa: E402

from yiwang.cases.models import OutboxMessage  # noqa: E402
from yiwang.workflow.models import ProcessDefinition, WorkflowInstance  # noqa: E402

DOC = {"tasks": [{"id": f"task-{i}", "name": "审核“材料”\\", "data": {"k": "v" * 40}} for i in range(40)]}


REPEAT = 300


def rolled_back(insert: Callable[[], object]) -> Callable[[], None]:
    def run() -> None:
        sid = transaction.savepoint()
        insert()
        transaction.savepoint_rollback(sid)

    return run


def main() -> None:
    with transaction.atomic():
        definition = ProcessDefinition.objects.create(
            key="bench-json", name="bench", process_id="p", bpmn_xml="<definitions/>", checksum="0"
        )
        values = cpu_us(
            rolled_back(
                lambda: WorkflowInstance.objects.bulk_create(
                    [WorkflowInstance(case_id=-1 - i, definition=definition, state=DOC) for i in range(7)]
                )
            ),
            REPEAT,
        )
        plain = cpu_us(
            rolled_back(
                lambda: OutboxMessage.objects.bulk_create(
                    [
                        OutboxMessage(
                            channel="sms", recipient_cipher="", recipient_masked="", template="t", payload=DOC
                        )
                        for _ in range(7)
                    ]
                )
            ),
            REPEAT,
        )
        transaction.set_rollback(True)
    print(
        json.dumps(
            {
                "database": connection.vendor,
                "document_bytes": len(json.dumps(DOC, ensure_ascii=False).encode()),
                "values_insert_us": round(values, 1),
                "json_field_us": round(plain, 1),
                "ratio": round(plain / values, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
