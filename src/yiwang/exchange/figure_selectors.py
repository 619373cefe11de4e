"""Reads of the exchange figures (the Gansu figures: records exchanged, stored, refused).

``ExchangeDailyFigure`` is folded from the log by the sealer (``log.seal_pending``), so these
figures lag the log by the sealing interval and read a few hundred rows, never the log itself.
"Stored" is each base registry's current record count (``registries``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone

from .models import ExchangeDailyFigure, ExchangeOutcome, Registry

DEFAULT_DAYS = 30
MAX_DAYS = 366


@dataclass
class FigureRow:
    day: dt.date
    registry: str
    registry_label: str
    department_id: int
    department: str
    exchanged: int = 0
    answered: int = 0
    refused: int = 0
    failed: int = 0


@dataclass
class RegistryTotal:
    registry: str
    registry_label: str
    exchanged: int = 0
    refused: int = 0
    failed: int = 0
    stored: int | None = None


@dataclass
class Figures:
    since: dt.date
    until: dt.date
    rows: list[FigureRow] = field(default_factory=list)
    totals: list[RegistryTotal] = field(default_factory=list)


def registry_label(code: str) -> str:
    return str(dict(Registry.choices).get(code, code or "—"))


def period(since: dt.date | None, until: dt.date | None) -> tuple[dt.date, dt.date]:
    """The days asked for: the last 30 by default, at most a year, ``since`` not after ``until``."""
    until = until or timezone.localdate()
    since = since or until - dt.timedelta(days=DEFAULT_DAYS - 1)
    if since > until:
        since, until = until, since
    return max(since, until - dt.timedelta(days=MAX_DAYS - 1)), until


def stored_records() -> dict[str, int]:
    """Records each base registry keeps now (empty before the registries exist)."""
    try:
        from . import registries
    except ImportError:
        return {}
    out: dict[str, int] = {}
    for code, counter in registries.counters().items():
        out[code] = int(getattr(counter, "records", 0) or 0)
    return out


def daily_figures(
    *,
    since: dt.date | None = None,
    until: dt.date | None = None,
    registry: str = "",
    department_id: int | None = None,
) -> Figures:
    """Per day, registry and consuming department (newest day first), and per registry."""
    since, until = period(since, until)
    qs = ExchangeDailyFigure.objects.filter(day__gte=since, day__lte=until)
    if registry:
        qs = qs.filter(registry=registry)
    if department_id:
        qs = qs.filter(consumer_id=department_id)
    rows: dict[tuple[dt.date, str, int], FigureRow] = {}
    totals: dict[str, RegistryTotal] = {}
    for f in qs.values("day", "registry", "consumer_id", "consumer__name", "outcome", "requests", "records"):
        key = (f["day"], f["registry"], f["consumer_id"])
        row = rows.get(key)
        if row is None:
            row = rows[key] = FigureRow(
                f["day"], f["registry"], registry_label(f["registry"]), f["consumer_id"], f["consumer__name"]
            )
        total = totals.setdefault(f["registry"], RegistryTotal(f["registry"], registry_label(f["registry"])))
        if f["outcome"] == ExchangeOutcome.ANSWERED:
            row.exchanged += f["records"]
            row.answered += f["requests"]
            total.exchanged += f["records"]
        elif f["outcome"] == ExchangeOutcome.REFUSED:
            row.refused += f["requests"]
            total.refused += f["requests"]
        else:
            row.failed += f["requests"]
            total.failed += f["requests"]
    stored = stored_records()
    for code, count in stored.items():
        if registry and code != registry:
            continue
        totals.setdefault(code, RegistryTotal(code, registry_label(code))).stored = count
    ordered = sorted(rows.values(), key=lambda r: (-r.day.toordinal(), r.registry, r.department))
    return Figures(since, until, ordered, sorted(totals.values(), key=lambda t: t.registry))
