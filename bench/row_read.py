"""CPU time of the case step's row lock: ``core.rows.locked_row`` against the ORM's
``select_for_update(of=("self",)).select_related(...).get(pk=...)`` for the same case, joined
rows and connection. The reason ``locked_row`` exists; if the two come close, drop it.

Runs on the database the settings name (``DATABASE_URL``, else the SQLite file), which must hold
at least one case (``make demo`` fills one). Prints one JSON object:

    PYTHONPATH=src python bench/row_read.py
"""

from __future__ import annotations

import json
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")

import django  # noqa: E402

from cputime import cpu_us  # noqa: E402  (bench/ is the script's directory)

django.setup()

from django.db import connection, transaction  # noqa: E402

from yiwang.cases.actions import WITH_VERSION  # noqa: E402
from yiwang.cases.models import Case  # noqa: E402
from yiwang.core.rows import locked_row  # noqa: E402

REPEAT = 2000


def main() -> None:
    pk = Case.objects.order_by("pk").values_list("pk", flat=True).first()
    if pk is None:
        raise SystemExit("no case in the database: fill it first (make demo)")
    with transaction.atomic():
        ours = cpu_us(lambda: locked_row(Case, pk, WITH_VERSION), REPEAT)
        orm = cpu_us(
            lambda: Case.objects.select_for_update(of=("self",)).select_related(*WITH_VERSION).get(pk=pk),
            REPEAT,
        )
    result = {
        "database": connection.vendor,
        "related": list(WITH_VERSION),
        "locked_row_us": round(ours, 1),
        "orm_us": round(orm, 1),
        "ratio": round(orm / ours, 2),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
