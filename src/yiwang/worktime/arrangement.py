"""The text form of one year's holiday arrangement, as administrators paste it from the State
Council notice (国务院办公厅关于 20XX 年部分节假日安排的通知): one row per holiday range or
make-up working day, ``类型,名称,开始日期[,结束日期]``::

    # 2027 年节假日安排
    放假,元旦,2027-01-01,2027-01-03
    放假,春节,2027-02-06,2027-02-13
    补班,春节,2027-02-14

Pure parsing and validation; ``services.import_year`` writes the result. Every broken row is
reported at once, in Chinese, with its line number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from yiwang.core.errors import FieldError, ValidationFailed

from .models import DayKind

MAX_LINES = 400
MAX_RANGE_DAYS = 31
_KINDS = {
    "放假": DayKind.HOLIDAY,
    "休": DayKind.HOLIDAY,
    "休息": DayKind.HOLIDAY,
    "假": DayKind.HOLIDAY,
    "holiday": DayKind.HOLIDAY,
    "补班": DayKind.MAKEUP_WORKDAY,
    "班": DayKind.MAKEUP_WORKDAY,
    "上班": DayKind.MAKEUP_WORKDAY,
    "调休上班": DayKind.MAKEUP_WORKDAY,
    "workday": DayKind.MAKEUP_WORKDAY,
}
_SPLIT = re.compile(r"\s*[,，\t;；]\s*")
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_WEEKDAYS = "一二三四五六日"


@dataclass
class Arrangement:
    year: int
    # date -> (kind, holiday name); dates not listed follow the weekend rule.
    days: dict[date, tuple[str, str]] = field(default_factory=dict)

    @property
    def holiday_days(self) -> int:
        return sum(1 for k, _ in self.days.values() if k == DayKind.HOLIDAY)

    @property
    def makeup_days(self) -> int:
        return sum(1 for k, _ in self.days.values() if k == DayKind.MAKEUP_WORKDAY)


def parse_date(text: str) -> date | None:
    m = _DATE.match(text.strip())
    if not m:
        return None
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def parse_arrangement(year: int, text: str) -> Arrangement:
    """Parse and check the rows; raise ``ValidationFailed`` naming every bad row."""
    errors: list[str] = []
    result = Arrangement(year)
    placed_by: dict[date, int] = {}
    lines = text.splitlines()
    if len(lines) > MAX_LINES:
        raise ValidationFailed([FieldError("text", _("内容过长：最多 %(n)s 行。") % {"n": MAX_LINES})])
    for number, raw in enumerate(lines, start=1):
        line = raw.strip().lstrip("\ufeff")
        if not line or line.startswith("#"):
            continue
        cells = [c.strip() for c in _SPLIT.split(line)]
        while cells and cells[-1] == "":
            cells.pop()
        if cells and cells[0] in {"类型", "type"}:
            continue  # a header row
        row_errors = _check_row(year, number, cells, result, placed_by)
        errors.extend(row_errors)
    if not errors and not result.days:
        errors.append(_("没有找到任何放假或补班安排。"))
    if errors:
        raise ValidationFailed([FieldError("text", e) for e in errors])
    return result


def _check_row(
    year: int, number: int, cells: list[str], result: Arrangement, placed_by: dict[date, int]
) -> list[str]:
    def err(message: str, **values: object) -> str:
        return _("第 %(line)s 行：") % {"line": number} + (message % values if values else message)

    if len(cells) < 3 or len(cells) > 4:
        return [
            err(
                _("应为“类型,名称,开始日期[,结束日期]”四列，例如“放假,春节,%(y)s-02-06,%(y)s-02-13”。"),
                y=year,
            )
        ]
    kind = _KINDS.get(cells[0].lower())
    name = cells[1]
    errors: list[str] = []
    if kind is None:
        errors.append(err(_("类型“%(value)s”无效，应为“放假”或“补班”。"), value=cells[0][:20]))
    if kind == DayKind.HOLIDAY and not name:
        errors.append(err(_("放假须填写节日名称，如“春节”。")))
    if len(name) > 64:
        errors.append(err(_("节日名称过长（最多 64 个字）。")))
    start = parse_date(cells[2])
    end = parse_date(cells[3]) if len(cells) == 4 and cells[3] else start
    if start is None:
        errors.append(
            err(_("开始日期“%(value)s”无效，应为 %(y)s-02-06 这样的日期。"), value=cells[2][:20], y=year)
        )
    if len(cells) == 4 and cells[3] and end is None:
        errors.append(
            err(_("结束日期“%(value)s”无效，应为 %(y)s-02-13 这样的日期。"), value=cells[3][:20], y=year)
        )
    if errors or start is None or end is None or kind is None:
        return errors
    if end < start:
        return [err(_("结束日期 %(end)s 早于开始日期 %(start)s。"), end=end, start=start)]
    if start.year != year or end.year != year:
        return [
            err(
                _("日期须在 %(year)s 年内；跨年的日期请在所属年份录入，或在“工作日历”中单独修改该日。"),
                year=year,
            )
        ]
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        return [
            err(
                ngettext(
                    "区间超过 %(n)s 天，请检查日期。", "区间超过 %(n)s 天，请检查日期。", MAX_RANGE_DAYS
                ),
                n=MAX_RANGE_DAYS,
            )
        ]
    day = start
    while day <= end:
        if day in placed_by:
            errors.append(err(_("%(day)s 已在第 %(other)s 行中安排。"), day=day, other=placed_by[day]))
        elif kind == DayKind.MAKEUP_WORKDAY and day.weekday() < 5:
            errors.append(
                err(
                    _("%(day)s 是星期%(weekday)s，补班日应为周六或周日。"),
                    day=day,
                    weekday=_WEEKDAYS[day.weekday()],
                )
            )
        else:
            placed_by[day] = number
            result.days[day] = (kind, name)
        day += timedelta(days=1)
    return errors


def arrangement_text(year: int, days: dict[date, tuple[str, str]]) -> str:
    """The rows for ``days`` (holidays and make-up days only), ranges joined: the inverse of
    ``parse_arrangement``, used to prefill the import form with what is on record."""
    rows: list[str] = []
    run: list[date] = []
    run_name = ""

    def flush() -> None:
        if run:
            end = f",{run[-1]:%Y-%m-%d}" if len(run) > 1 else ""
            rows.append(f"放假,{run_name},{run[0]:%Y-%m-%d}{end}")

    for day in sorted(days):
        kind, name = days[day]
        if kind == DayKind.HOLIDAY:
            if run and (day - run[-1]).days == 1 and name == run_name:
                run.append(day)
                continue
            flush()
            run, run_name = [day], name
        elif kind == DayKind.MAKEUP_WORKDAY:
            rows.append(f"补班,{name},{day:%Y-%m-%d}")
    flush()
    rows.sort(key=lambda r: r.split(",")[2])
    return "\n".join([f"# {year} 年节假日安排：类型,名称,开始日期[,结束日期]", *rows]) + "\n"
