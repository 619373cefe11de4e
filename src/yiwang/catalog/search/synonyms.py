"""Synonym groups edited by administrators (catalog.models.Synonym), applied at query time.

Expanding the query instead of the index means an edit takes effect on the next search, with no
re-indexing. The groups are cached per process and re-read when the table's row count or latest
``updated_at`` changes (one cheap aggregate per search).
"""

from __future__ import annotations

import threading

from django.db import connection

from yiwang.catalog.models import Synonym

from . import tokens as tk

_lock = threading.Lock()
_cache: dict[str, object] = {"key": None, "groups": {}}


def _clean(term: str) -> str:
    return "".join(tk.words(term))


def load_groups() -> dict[str, list[str]]:
    """Map every member of every group to the whole group (the term first, then its synonyms)."""
    groups: dict[str, list[str]] = {}
    for term, raw in Synonym.objects.values_list("term", "synonyms"):
        members = [_clean(term)] + [_clean(t) for t in Synonym(term=term, synonyms=raw).terms()]
        members = list(dict.fromkeys(m for m in members if m))
        for member in members:
            merged = groups.setdefault(member, [])
            merged.extend(m for m in members if m not in merged)
    return groups


def synonyms_state() -> tuple:
    """The table's row count and latest ``updated_at``: changes with every edit of a group."""
    # Raw SQL: this runs on every search, and the ORM's aggregate costs more than the query.
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*), max(updated_at) FROM {Synonym._meta.db_table}")
        return tuple(cursor.fetchone())


def synonym_groups(state: tuple | None = None) -> dict[str, list[str]]:
    """The groups as of ``state`` (``synonyms_state()``, read here when not given)."""
    key = state if state is not None else synonyms_state()
    with _lock:
        if _cache["key"] == key:
            return _cache["groups"]  # type: ignore[return-value]
    groups = load_groups()
    with _lock:
        _cache["key"], _cache["groups"] = key, groups
    return groups
