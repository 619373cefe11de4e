"""Case numbers: ``RRRRRR`` + ``YYYYMMDD`` + ``NNNNNN`` (20 digits).

RRRRRR is the first six digits of the implementing region's GB/T 2260 code (a township's case
carries its county's code), YYYYMMDD the submission day in Asia/Shanghai, NNNNNN the day's
sequence for that region code from 000001. The sequence is one upsert
(``INSERT … ON CONFLICT … DO UPDATE … RETURNING``), atomic on PostgreSQL (the conflicting row is
locked until the transaction ends) and on SQLite (3.35+; the IMMEDIATE transaction holds the
database's write lock), so concurrent submissions never share a number.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.db import connection

from .models import CaseNumberSequence

CHECK_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read out on the phone


def next_sequence(region_code: str, day: dt.date) -> int:
    table = connection.ops.quote_name(CaseNumberSequence._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (region_code, day, last) VALUES (%s, %s, 1) "
            f"ON CONFLICT (region_code, day) DO UPDATE SET last = {table}.last + 1 RETURNING last",
            [region_code, day],
        )
        return int(cursor.fetchone()[0])


def case_number(region_code: str, day: dt.date) -> str:
    code = (region_code or "000000")[:6].ljust(6, "0")
    return f"{code}{day:%Y%m%d}{next_sequence(code, day):06d}"


def check_code() -> str:
    return "".join(secrets.choice(CHECK_ALPHABET) for _ in range(6))
