"""The shared cache of search result pages (ids, counts, expanded terms; never whole items).

Most searches of a province's portal are a few hundred popular queries (营业执照, 护照, 社保...),
and each costs statements in PostgreSQL and ranking in Python; the same page for the same words
and filters is the same for every reader until the index or the synonyms change. So a result page
is kept ``YIWANG_SEARCH_CACHE_SECONDS`` (60 with Redis) under a key made of:

- a **generation** number, moved by every write to the index (``index_versions``,
  ``remove_items``, ``clear_index``, ``rebuild_index``) both when it is made and again after its
  transaction commits, so that a search running between the two cannot keep the old page under
  the new number: a publication or withdrawal shows in the very next search;
- the synonyms' state (``synonyms_state``: one aggregate over a small table, already read by
  every search), so that an edited group applies at once, as before;
- the words as typed and every filter, page and page size.

``YIWANG_SEARCH_CACHE_SECONDS = 0`` turns it off: the default without Redis (a local-memory cache
is each worker's own, so the other workers would not see the generation move), and the tests'
(they write the index directly).
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

GENERATION_KEY = "catalog:search:generation"


def seconds() -> int:
    return int(settings.YIWANG_SEARCH_CACHE_SECONDS)


def generation() -> int:
    value = cache.get(GENERATION_KEY)
    return int(value) if value is not None else 0


def _bump() -> None:
    # add + incr: atomic in Redis, so two writers never hand out the same number twice.
    cache.add(GENERATION_KEY, 0, timeout=None)
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # evicted between add and incr: any new number will do
        cache.set(GENERATION_KEY, generation() + 1, timeout=None)


def index_changed() -> None:
    """Call inside the transaction that writes the index: every cached page is out of date now
    and once more when the write commits."""
    _bump()
    transaction.on_commit(_bump)


def key(state: tuple, args: tuple[Any, ...]) -> str:
    raw = repr((generation(), state, args)).encode()
    return "catalog:search:page:" + hashlib.sha256(raw).hexdigest()[:40]
