"""Reads of the figures (效能) for the supervisor's page and the open data: sums of the day
rollups over a date range, grouped per department, region or item, with the shares and
averages derived from them. Only ``DailyFigure`` rows are read, never cases."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, Sum
from django.utils.translation import gettext_lazy as _

from .models import FIGURE_COLUMNS, DailyFigure

GROUPS = ("department", "region", "item")
# Derived columns: name -> (numerator, denominator); shown as a percentage or a mean.
SHARES = {
    "on_time_rate": ("on_time", "timed"),
    "online_share": ("fully_online", "received"),
    "one_visit_share": ("one_visit", "received"),
    "correction_rate": ("corrections", "received"),
    "reuse_share": ("cert_reuse", "decided"),
    "satisfaction": ("satisfied", "rated"),
}
MEANS = {
    "avg_days": ("days_used", "timed"),
    "avg_promised": ("promised_days", "timed"),
    "avg_statutory": ("statutory_days", "timed"),
}
SORTABLE = ("name", *FIGURE_COLUMNS, *SHARES, *MEANS)
# A grouping by item over a province can hold tens of thousands of rows: the page shows the
# largest by received cases (the sort then applies to those); the totals cover all.
MAX_ROWS = 1000


@dataclass
class FigureRow:
    key: int
    name: str
    sub: str = ""  # the item's department
    sums: dict[str, int] = field(default_factory=dict)
    derived: dict[str, float | None] = field(default_factory=dict)

    def value(self, column: str) -> Any:
        if column == "name":
            return self.name
        if column in self.sums:
            return self.sums[column]
        return self.derived.get(column)


@dataclass
class FigureTable:
    by: str
    start: dt.date
    end: dt.date
    rows: list[FigureRow]
    total: FigureRow
    truncated: bool = False


def _derive(sums: dict[str, int]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for name, (num, den) in SHARES.items():
        out[name] = round(100.0 * sums[num] / sums[den], 1) if sums.get(den) else None
    for name, (num, den) in MEANS.items():
        out[name] = round(sums[num] / sums[den], 1) if sums.get(den) else None
    return out


def _sums(row: dict[str, Any]) -> dict[str, int]:
    return {c: int(row[c] or 0) for c in FIGURE_COLUMNS}


_NAMES = {
    "department": ("department_id", ("department__name", "department__region__name")),
    "region": ("region_id", ("region__name", "region__code")),
    "item": ("item_id", ("item__name", "item__standard__name", "item__code", "department__name")),
}


def figure_table(
    scope: Q, *, by: str, start: dt.date, end: dt.date, sort: str = "received", descending: bool = True
) -> FigureTable:
    """The rollups from ``start`` to ``end`` (both included) within ``scope`` (a filter on the
    department, as ``workbench.selectors.CaseScope.q`` gives), one row per ``by`` (department,
    region or item), sorted by ``sort``, with the totals. Two queries."""
    if by not in GROUPS:
        raise ValueError(by)
    qs = DailyFigure.objects.filter(scope, day__gte=start, day__lte=end)
    aggregates = {c: Sum(c) for c in FIGURE_COLUMNS}
    key, names = _NAMES[by]
    grouped = qs.values(key, *names).annotate(**aggregates).order_by("-received", key)
    rows: list[FigureRow] = []
    for r in grouped[: MAX_ROWS + 1]:
        sums = _sums(r)
        if by == "item":
            name = f"{r['item__name'] or r['item__standard__name']}（{r['item__code']}）"
            sub = r["department__name"]
        elif by == "region":
            name, sub = r["region__name"], r["region__code"]
        else:
            name, sub = r["department__name"], r["department__region__name"]
        rows.append(FigureRow(key=r[key], name=name, sub=sub, sums=sums, derived=_derive(sums)))
    truncated = len(rows) > MAX_ROWS
    rows = rows[:MAX_ROWS]
    if sort not in SORTABLE:
        sort = "received"

    def order(row: FigureRow) -> tuple:
        value = row.value(sort)
        return (value is None, value if value is not None else 0)

    present = [r for r in rows if r.value(sort) is not None]
    missing = [r for r in rows if r.value(sort) is None]
    present.sort(key=order, reverse=descending)
    total_sums = _sums({c: v for c, v in qs.aggregate(**aggregates).items()})
    total = FigureRow(key=0, name="", sums=total_sums, derived=_derive(total_sums))
    return FigureTable(by=by, start=start, end=end, rows=present + missing, total=total, truncated=truncated)


def daily_rows() -> Iterator[dict[str, Any]]:
    """Per department and day, every counted column (the open data's "daily figures"): no case,
    no person, only sums."""
    qs = (
        DailyFigure.objects.values(
            "day", "department__code", "department__name", "region__code", "region__name"
        )
        .annotate(**{c: Sum(c) for c in FIGURE_COLUMNS})
        .order_by("day", "region__code", "department__code")
    )
    for r in qs.iterator(chunk_size=2000):
        yield {
            "day": r["day"].isoformat(),
            "region_code": r["region__code"],
            "region_name": r["region__name"],
            "department_code": r["department__code"],
            "department_name": r["department__name"],
            **{c: r[c] for c in FIGURE_COLUMNS},
        }


def last_day() -> dt.date | None:
    return DailyFigure.objects.order_by("-day").values_list("day", flat=True).first()


@dataclass(frozen=True)
class Shown:
    key: str
    title: Any
    kind: str = "count"  # count, percent, days


# The columns of the figures page and its export, in order.
SHOWN = (
    Shown("received", _("收件")),
    Shown("accepted", _("受理")),
    Shown("refused", _("不予受理")),
    Shown("decided", _("办结决定")),
    Shown("approved", _("准予")),
    Shown("denied", _("不予")),
    Shown("on_time", _("按时办结")),
    Shown("overdue", _("超期办结")),
    Shown("on_time_rate", _("按时办结率"), "percent"),
    Shown("avg_days", _("平均用时（工作日）"), "days"),
    Shown("avg_promised", _("平均承诺时限"), "days"),
    Shown("avg_statutory", _("平均法定时限"), "days"),
    Shown("online_share", _("全程网办率"), "percent"),
    Shown("one_visit_share", _("最多跑一次率"), "percent"),
    Shown("corrections", _("补正次数")),
    Shown("correction_rate", _("补正率"), "percent"),
    Shown("cert_reuse", _("电子证照复用办件")),
    Shown("reuse_share", _("复用率"), "percent"),
    Shown("rated", _("评价数")),
    Shown("satisfaction", _("满意率"), "percent"),
)
