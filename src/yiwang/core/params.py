"""Integers from a URL: one path converter and one query-parameter parser for the whole platform.

A number typed into a URL is untrusted input. Python's ``int()`` accepts what no column can hold
(``99999999999999999999999``) and digits that are not ASCII (``"١٢"``); PostgreSQL then refuses
the query with ``DataError`` and SQLite's driver with ``OverflowError``, a server error for what
is only a bad link. Every ``<id:...>`` path argument and every integer read from a query string
or a form goes through this module, so a value outside the database's ``bigint`` range is a 404
(a path) or counts as absent (a filter, a page number), decided in one place.
"""

from __future__ import annotations

import re
from typing import Any

# The largest value of a bigint column (PostgreSQL ``bigint``, SQLite ``INTEGER``): every primary
# key of the platform is a BigAutoField (settings.DEFAULT_AUTO_FIELD).
MAX_ID = 2**63 - 1

# ASCII digits only: str.isdigit() and int() also take "²" and "١٢٣", which no URL of ours makes.
_DIGITS = re.compile(r"[0-9]{1,19}")
_SIGNED = re.compile(r"-?[0-9]{1,19}")


class IdConverter:
    """``<id:name>``: a non-negative integer that fits a bigint column, else no match (404).

    Registered once in ``yiwang.core.apps``; used by every integer path argument instead of
    Django's ``<int:...>``, which matches any number of digits."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > MAX_ID:
            raise ValueError(value)  # the resolver treats it as no match: a 404
        return number

    def to_url(self, value: Any) -> str:
        return str(int(value))


def int_param(
    value: Any, default: int | None = None, *, min_value: int = 0, max_value: int = MAX_ID
) -> int | None:
    """An integer query parameter or form field, or ``default`` when it is missing, not a plain
    decimal number, or outside ``min_value``..``max_value`` (a stale or hand-edited link shows
    the unfiltered page rather than an error)."""
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        number = value
    else:
        text = str(value if value is not None else "").strip()
        if not (_SIGNED if min_value < 0 else _DIGITS).fullmatch(text):
            return default
        number = int(text)
    return number if min_value <= number <= max_value else default


# Far beyond any list of the platform (70,000 items are 3,500 pages of 20), and small enough that
# ``(page - 1) * per_page`` stays a bigint OFFSET for any page size.
MAX_PAGE = 1_000_000_000


def page_param(value: Any) -> int:
    """A ``?page=`` number: 1 when missing, garbage or out of range."""
    return int_param(value, 1, min_value=1, max_value=MAX_PAGE) or 1
