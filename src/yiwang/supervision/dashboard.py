"""The live dashboards (docs/supervision.md "Live dashboard"): today's figures, the areas of a
scope ranked, a 30-day trend and the latest (masked) events, read from the day rollups
(``DailyFigure``) and never by counting cases, cached a few seconds per scope and language,
and pushed to the pages as server-sent events.

The stream polls this cache every ``YIWANG_DASHBOARD_POLL_SECONDS`` per connection and sends
an event only when the figures changed: the cache makes the cost of a poll independent of the
number of open screens (one computation per scope, language and cache period on each node),
and works the same with and without Redis. Redis pub/sub published by the fold would save the
polls but needs an async Redis connection per screen and a second path for the embedded
default, for figures that move only once per fold anyway.

Under ASGI (uvicorn workers) a stream stays open ``YIWANG_DASHBOARD_STREAM_SECONDS`` and then
ends, so that the browser reconnects (to another node, with a fresh session check). Under WSGI
(``yiwang serve``: gunicorn sync workers) an open stream would hold a whole worker, so the
response sends the current figures once and ends; the page's EventSource reconnects after the
``retry`` it was given, which makes it a poll over the same protocol.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import cache
from django.db.models import Q, Sum
from django.utils import timezone, translation

from yiwang.cases import selectors as case_selectors
from yiwang.core import replica
from yiwang.regions import selectors as region_selectors

from . import figures
from .models import FIGURE_COLUMNS, DailyFigure

TREND_DAYS = 30
EVENTS = 10
# The keys of "today" in the order the pages show them.
TODAY_KEYS = ("received", "accepted", "decided", "on_time_rate", "overdue", "online_share", "satisfaction")


@dataclass(frozen=True)
class DashboardScope:
    """What a dashboard covers: ``q`` filters the rollups and cases by department (the
    workbench's case scopes), ``key`` names it in the cache, and ``depth`` is the level of the
    region path its areas are ranked at (1: the province's cities, 2: a city's counties)."""

    q: Q
    key: str
    depth: int = 1


PUBLIC = DashboardScope(q=Q(), key="public", depth=1)


def _setting(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


def poll_seconds() -> float:
    return _setting("YIWANG_DASHBOARD_POLL_SECONDS", 3)


def cache_key(scope: DashboardScope, language: str) -> str:
    return f"supervision:dashboard:v1:{scope.key}:{language}"


def _rate(num: int, den: int) -> float | None:
    return round(100.0 * num / den, 1) if den else None


def _today(sums: dict[str, int]) -> dict[str, Any]:
    return {
        "received": sums["received"],
        "accepted": sums["accepted"],
        "decided": sums["decided"],
        "on_time_rate": _rate(sums["on_time"], sums["timed"]),
        "overdue": sums["overdue"],
        "online_share": _rate(sums["fully_online"], sums["received"]),
        "satisfaction": _rate(sums["satisfied"], sums["rated"]),
    }


def _area_code(path: str, depth: int) -> str:
    codes = [c for c in path.split("/") if c]
    return codes[depth] if len(codes) > depth else codes[-1]


def _compute(scope: DashboardScope, today: dt.date, alias: str) -> dict[str, Any]:
    """Four queries: the trend (today's figures are its last day), the areas, their names and
    the latest cases."""
    start = today - dt.timedelta(days=TREND_DAYS - 1)
    rows = DailyFigure.objects.using(alias).filter(scope.q, day__gte=start, day__lte=today)
    wanted = ("received", "decided", "on_time", "timed", "overdue", "fully_online", "accepted")
    sums_by_day: dict[dt.date, dict[str, int]] = {}
    for r in rows.values("day").annotate(**{c: Sum(c) for c in FIGURE_COLUMNS}).order_by("day"):
        sums_by_day[r["day"]] = {c: int(r[c] or 0) for c in FIGURE_COLUMNS}
    zero = dict.fromkeys(FIGURE_COLUMNS, 0)
    days = [start + dt.timedelta(days=i) for i in range(TREND_DAYS)]
    trend: dict[str, list[Any]] = {"days": [d.strftime("%m-%d") for d in days]}
    for key in wanted:
        trend[key] = [sums_by_day.get(d, zero)[key] for d in days]
    trend["on_time_rate"] = [
        _rate(sums_by_day.get(d, zero)["on_time"], sums_by_day.get(d, zero)["timed"]) for d in days
    ]

    # Areas over the trend's 30 days: one day's rates are too thin to rank by.
    areas: dict[str, dict[str, int]] = {}
    area_columns = ("received", "decided", "on_time", "timed", "rated", "satisfied")
    for r in rows.values("region__path").annotate(**{c: Sum(c) for c in area_columns}):
        code = _area_code(r["region__path"], scope.depth)
        acc = areas.setdefault(code, dict.fromkeys(area_columns, 0))
        for c in area_columns:
            acc[c] += int(r[c] or 0)
    names = region_selectors.names_by_code(list(areas), using=alias) if areas else {}
    area_rows: list[dict[str, Any]] = [
        {
            "code": code,
            "name": names.get(code, code),
            "received": s["received"],
            "decided": s["decided"],
            "on_time_rate": _rate(s["on_time"], s["timed"]),
            "bad_rate": _rate(s["rated"] - s["satisfied"], s["rated"]),
            "rated": s["rated"],
        }
        for code, s in areas.items()
    ]
    area_rows.sort(key=lambda a: (a["on_time_rate"] is None, -(a["on_time_rate"] or 0), -a["received"]))

    events = [
        {**e, "at": timezone.localtime(e["at"]).strftime("%m-%d %H:%M")}
        for e in case_selectors.latest_cases(scope.q, limit=EVENTS, using=alias)
    ]
    data: dict[str, Any] = {
        "day": today.isoformat(),
        "today": _today(sums_by_day.get(today, zero)),
        "trend": trend,
        "areas": area_rows,
        "events": events,
    }
    data["version"] = hashlib.sha1(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]
    data["updated"] = timezone.localtime().strftime("%H:%M:%S")
    return data


def dashboard_data(scope: DashboardScope, *, language: str | None = None) -> dict[str, Any]:
    """The dashboard of ``scope`` in ``language`` (the active one by default), from the cache
    if computed within ``YIWANG_DASHBOARD_CACHE_SECONDS``; read on the replica when fit."""
    language = language or translation.get_language() or settings.LANGUAGE_CODE
    key = cache_key(scope, language)
    data = cache.get(key)
    if data is not None:
        return data
    if settings.CELERY_TASK_ALWAYS_EAGER:
        # The embedded default has no beat: the deltas are folded when the figures are read
        # (here once per cache period, not per screen).
        figures.fold()
    today = timezone.localdate()
    with translation.override(language):
        data = replica.read(lambda alias: _compute(scope, today, alias))
    cache.set(key, data, _setting("YIWANG_DASHBOARD_CACHE_SECONDS", 3))
    return data


# --- server-sent events ------------------------------------------------------------------------


def sse_event(data: dict[str, Any]) -> bytes:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return f"id: {data['version']}\nevent: figures\ndata: {body}\n\n".encode()


def _retry() -> bytes:
    return f"retry: {int(poll_seconds() * 1000)}\n\n".encode()


def sync_stream(scope: DashboardScope, *, language: str, last_id: str = "") -> Iterator[bytes]:
    """Under WSGI: the figures once (a comment only when they are those of ``last_id``, the
    browser's Last-Event-ID), then the end; the browser reconnects after ``retry``."""
    yield _retry()
    data = dashboard_data(scope, language=language)
    yield sse_event(data) if data["version"] != last_id else b": unchanged\n\n"


async def async_stream(scope: DashboardScope, *, language: str, last_id: str = "") -> AsyncIterator[bytes]:
    """Under ASGI: the figures each time they change, polled from the cache, until
    ``YIWANG_DASHBOARD_STREAM_SECONDS``; a comment line every 15 s keeps proxies from closing
    an idle stream."""
    yield _retry()
    read = sync_to_async(dashboard_data)
    end = time.monotonic() + _setting("YIWANG_DASHBOARD_STREAM_SECONDS", 300)
    quiet_since = time.monotonic()
    while True:
        data = await read(scope, language=language)
        if data["version"] != last_id:
            last_id = data["version"]
            quiet_since = time.monotonic()
            yield sse_event(data)
        elif time.monotonic() - quiet_since >= 15:
            quiet_since = time.monotonic()
            yield b": keep-alive\n\n"
        if time.monotonic() >= end:
            return
        await asyncio.sleep(poll_seconds())
