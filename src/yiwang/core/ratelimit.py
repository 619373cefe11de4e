"""Where rate-limit counts live: one store that every web process and node shares.

``YIWANG_RATE_LIMIT_STORE`` chooses it (settings.py):

- ``"database"`` (the embedded default): one ``RateCounter`` row per bucket, counted by a single
  ``INSERT ... ON CONFLICT DO UPDATE SET hits = hits + 1 ... RETURNING hits`` statement, the same
  SQL on SQLite (3.35+) and PostgreSQL. The database serialises the statement on the row (a row
  lock on PostgreSQL, the write lock on SQLite), so N processes hitting one bucket together
  are counted exactly: the first ``limit`` answers are allowed, never more. Django's
  DatabaseCache is not used because its ``incr`` is a read then a write (two processes can
  both read 7 and both write 8).
- ``"cache"``: the ``ratelimit`` cache alias (Redis where ``REDIS_URL`` is set): ``add`` then
  ``incr``, each one atomic Redis command.

A fixed window: the count starts afresh when the window number (epoch seconds // window length)
moves on, so at a window's boundary up to twice the rate may pass, which is fine for abuse limits.
"""

from __future__ import annotations

import hashlib
import random
import time

from django.conf import settings
from django.core.cache import caches
from django.db import connection

from .models import RateCounter

CACHE_ALIAS = "ratelimit"
# One upsert in this many also deletes the rows of windows long over (a bucket per client
# address would otherwise pile up); also ``purge_expired`` for a periodic job.
PURGE_ONE_IN = 1000


def store() -> str:
    return getattr(settings, "YIWANG_RATE_LIMIT_STORE", "database")


def _bucket_key(key: str) -> str:
    # Keys hold a client address (IPv6 included) and a rule name: hashed if too long for the column.
    return key if len(key) <= 200 else "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def count_hit(key: str, window_no: int, expires_at: float) -> int:
    """Count one hit on ``key`` in window ``window_no``; return the hits counted in it so far,
    this one included."""
    if store() == "cache":
        return _cache_count(key, window_no, expires_at)
    return _database_count(_bucket_key(key), window_no, expires_at)


def hits(key: str, window_no: int) -> int:
    """The hits counted on ``key`` in window ``window_no`` (read only)."""
    if store() == "cache":
        return int(caches[CACHE_ALIAS].get(f"{key}:{window_no}") or 0)
    row = RateCounter.objects.filter(bucket=_bucket_key(key), window_no=window_no).values("hits").first()
    return row["hits"] if row else 0


def _cache_count(key: str, window_no: int, expires_at: float) -> int:
    cache = caches[CACHE_ALIAS]
    cache_key = f"{key}:{window_no}"
    timeout = max(1, int(expires_at - time.time()) + 1)
    if cache.add(cache_key, 1, timeout=timeout):
        return 1
    try:
        return int(cache.incr(cache_key))
    except ValueError:  # expired between add and incr
        cache.add(cache_key, 1, timeout=timeout)
        return 1


def _database_count(bucket: str, window_no: int, expires_at: float) -> int:
    table = connection.ops.quote_name(RateCounter._meta.db_table)
    # Every SET expression reads the row as it was before the update (both databases): a new
    # window restarts the count at 1, the current one adds 1.
    sql = (
        f"INSERT INTO {table} (bucket, window_no, hits, expires_at) VALUES (%s, %s, 1, %s) "
        f"ON CONFLICT (bucket) DO UPDATE SET "
        f"hits = CASE WHEN {table}.window_no = excluded.window_no THEN {table}.hits + 1 ELSE 1 END, "
        f"window_no = excluded.window_no, expires_at = excluded.expires_at "
        f"RETURNING hits"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [bucket, window_no, expires_at])
        (used,) = cursor.fetchone()
    if random.randrange(PURGE_ONE_IN) == 0:
        purge_expired(time.time())
    return int(used)


def purge_expired(now: float) -> int:
    """Delete the database counters of windows that ended before ``now`` (minus a minute)."""
    deleted, _ = RateCounter.objects.filter(expires_at__lt=now - 60).delete()
    return deleted
