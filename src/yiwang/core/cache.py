"""A Redis cache that degrades instead of failing (issue 6, docs/deployment.md "Failure behaviour").

The cache only saves work: guide pages, rate-limit windows, API throttles. When Redis stops,
Django's ``RedisCache`` raises ``ConnectionError`` on every call and each page that touches the
cache becomes a 500. ``DegradingRedisCache`` logs the first failure and answers as an empty
cache would (``get`` misses, writes are dropped, ``add`` and ``incr`` count as a first hit), so
people keep reading guides and applying, only slower. Sessions are written to the database as
well (Django's ``cached_db`` store), so a miss reads them there.

A down Redis on another machine does not refuse the connection, it times out: short socket
timeouts (``OPTIONS`` in settings) bound the first wait, and for ``RETRY_SECONDS`` after a
failure this process does not try Redis at all, so a page pays the timeout at most once per
interval instead of on every cache call. Deletes are the exception: they are tried even then,
because a delete ends something (a session, a one-time nonce), and one dropped during a short
failure would leave the old value readable once Redis answers again.

Django's client makes a new ``redis.Redis`` object for every cache call, whose constructor builds
its table of about 80 reply handlers again each time, and a page makes several cache calls.
``ReusingRedisCacheClient`` keeps one per connection pool (``redis.Redis`` is safe to share
between threads: each command takes its own connection from the pool).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger("yiwang.cache")

T = TypeVar("T")
FAILURES = (RedisConnectionError, RedisTimeoutError, OSError)


class ReusingRedisCacheClient(RedisCacheClient):
    """Django's Redis cache client with one ``redis.Redis`` per connection pool, made once."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None or client.connection_pool is not pool:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class DegradingRedisCache(RedisCache):
    """``RedisCache`` whose calls fall back to "cache miss" while Redis is unreachable."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        options = dict(params.get("OPTIONS") or {})
        self.retry_seconds = float(options.pop("RETRY_SECONDS", 5.0))
        super().__init__(server, {**params, "OPTIONS": options})
        self._class = ReusingRedisCacheClient
        self._down_until = 0.0
        self._lock = threading.Lock()

    @property
    def is_down(self) -> bool:
        return time.monotonic() < self._down_until

    def _call(self, what: str, fn: Callable[[], T], fallback: T, *, even_if_down: bool = False) -> T:
        if self.is_down and not even_if_down:
            return fallback
        try:
            return fn()
        except FAILURES as exc:
            with self._lock:
                first = not self.is_down
                self._down_until = time.monotonic() + self.retry_seconds
            if first:
                log.warning(
                    "cache unavailable (%s: %s); serving without cache for %.0f s",
                    type(exc).__name__,
                    exc,
                    self.retry_seconds,
                )
            return fallback

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None) -> bool:
        # True: the caller acts as the first to add (a rate-limit window starts at 1).
        return self._call(
            "add", lambda: super(DegradingRedisCache, self).add(key, value, timeout, version), True
        )

    def get(self, key, default=None, version=None):
        return self._call("get", lambda: super(DegradingRedisCache, self).get(key, default, version), default)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None) -> None:
        self._call("set", lambda: super(DegradingRedisCache, self).set(key, value, timeout, version), None)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None) -> bool:
        return self._call(
            "touch", lambda: super(DegradingRedisCache, self).touch(key, timeout, version), False
        )

    def delete(self, key, version=None) -> bool:
        return self._call(
            "delete", lambda: super(DegradingRedisCache, self).delete(key, version), False, even_if_down=True
        )

    def get_many(self, keys, version=None) -> dict:
        return self._call("get_many", lambda: super(DegradingRedisCache, self).get_many(keys, version), {})

    def has_key(self, key, version=None) -> bool:
        return self._call("has_key", lambda: super(DegradingRedisCache, self).has_key(key, version), False)

    def incr(self, key, delta=1, version=None) -> int:
        return self._call("incr", lambda: super(DegradingRedisCache, self).incr(key, delta, version), delta)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None) -> list:
        return self._call(
            "set_many", lambda: super(DegradingRedisCache, self).set_many(data, timeout, version), []
        )

    def delete_many(self, keys, version=None) -> None:
        self._call(
            "delete_many",
            lambda: super(DegradingRedisCache, self).delete_many(keys, version),
            None,
            even_if_down=True,
        )

    def clear(self) -> bool:
        return self._call("clear", lambda: super(DegradingRedisCache, self).clear(), False)
