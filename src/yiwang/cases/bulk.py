"""Case numbers for several cases created together (a bundle's unified acceptance creates one
branch case per member): one upsert per region code reserves a run of the day's sequence,
instead of one upsert per case. Same numbers, same guarantees as ``numbering.case_number``
(the upsert is atomic, so concurrent submissions never share a number)."""

from __future__ import annotations

import datetime as dt

from django.db import connection

from .models import CaseNumberSequence


def reserve_sequence(region_code: str, day: dt.date, count: int) -> range:
    """``count`` consecutive numbers of the day's sequence for ``region_code`` (6 digits)."""
    table = connection.ops.quote_name(CaseNumberSequence._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (region_code, day, last) VALUES (%s, %s, %s) "
            f"ON CONFLICT (region_code, day) DO UPDATE SET last = {table}.last + %s RETURNING last",
            [region_code, day, count, count],
        )
        last = int(cursor.fetchone()[0])
    return range(last - count + 1, last + 1)


def case_numbers(region_codes: list[str], day: dt.date) -> list[str]:
    """One case number per entry of ``region_codes`` (in that order), as ``numbering.case_number``
    gives them."""
    codes = [(c or "000000")[:6].ljust(6, "0") for c in region_codes]
    counts: dict[str, int] = {}
    for code in codes:
        counts[code] = counts.get(code, 0) + 1
    runs = {code: iter(reserve_sequence(code, day, n)) for code, n in counts.items()}
    return [f"{code}{day:%Y%m%d}{next(runs[code]):06d}" for code in codes]
