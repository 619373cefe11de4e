"""Writing the working-day calendar: seeding from the ``chinesecalendar`` package, and the
administrators' edits (a year's arrangement, one day, a year's status).

Only platform administrators (and superusers) edit the calendar: a holiday entered wrongly moves
every deadline in the province. Each edit is one transaction with its audit entry, and drops the
per-process calendar (``selectors``) so the next deadline uses it.
"""

from __future__ import annotations

import calendar as stdlib_calendar
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from yiwang.core import audit
from yiwang.core.errors import DomainError, FieldError, NotPermitted, ValidationFailed
from yiwang.identity.models import Role, StaffRole

from . import sources
from .arrangement import Arrangement, parse_arrangement
from .models import WORKING_KINDS, CalendarDay, CalendarSource, CalendarYear, DayKind
from .selectors import invalidate_calendar


def holiday_counts(h: int, m: int) -> dict[str, str]:
    """The holiday and make-up day counts, in the plural forms of the language."""
    return {
        "h": ngettext("放假 %(n)s 天", "放假 %(n)s 天", h) % {"n": h},
        "m": ngettext("补班 %(n)s 天", "补班 %(n)s 天", m) % {"n": m},
    }


# -- permission -----------------------------------------------------------------------------
def can_edit_calendar(user: User | AnonymousUser | None) -> bool:
    if not isinstance(user, User) or not (user.is_active and user.is_staff):  # None or the anonymous visitor
        return False
    return user.is_superuser or StaffRole.objects.filter(user=user, role=Role.PLATFORM_ADMIN).exists()


def _check(user: User | AnonymousUser | None) -> None:
    if not can_edit_calendar(user):
        raise NotPermitted(_("只有平台管理员可以修改工作日历。"))


def _changed() -> None:
    # Now for this transaction's own reads, and again after commit so that a reload that ran
    # in between (still seeing the old rows) is not kept.
    invalidate_calendar()
    transaction.on_commit(invalidate_calendar)


def _days_in_year(year: int) -> int:
    return 366 if stdlib_calendar.isleap(year) else 365


def _weekend_rule(day: date) -> str:
    return DayKind.WORKDAY if day.weekday() < 5 else DayKind.WEEKEND


# -- seeding --------------------------------------------------------------------------------
@dataclass
class SeedReport:
    written: list[int] = field(default_factory=list)  # years (re)written from the package
    unchanged: list[int] = field(default_factory=list)
    kept_admin: list[int] = field(default_factory=list)  # entered by an administrator: left alone
    days: int = 0


def _package_note() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"chinesecalendar {version('chinesecalendar')}"
    except PackageNotFoundError:  # pragma: no cover - the package is a dependency
        return "chinesecalendar"


def seed_from_package(
    year_from: int | None = None, year_to: int | None = None, *, force: bool = False
) -> SeedReport:
    """Write the years the package covers (all by default) into the calendar table.

    Idempotent: a year whose rows already match the package is not touched (so a second run
    writes nothing and invalidates nothing). A year an administrator entered or corrected is
    kept unless ``force``. Not audited here: the command and the migration are the callers and
    the command records one entry for the run.
    """
    covered = sources.package_years()
    year_from = covered.start if year_from is None else year_from
    year_to = covered.stop - 1 if year_to is None else year_to
    if year_from > year_to:
        raise DomainError(_("起始年份不能晚于结束年份。"))
    missing = [y for y in range(year_from, year_to + 1) if y not in covered]
    if missing:
        raise DomainError(
            _("chinesecalendar 数据包只包含 %(first)s–%(last)s 年；%(years)s 年请由管理员录入。")
            % {"first": covered.start, "last": covered.stop - 1, "years": "、".join(map(str, missing))}
        )
    report = SeedReport()
    years = {y.year: y for y in CalendarYear.objects.filter(year__gte=year_from, year__lte=year_to)}
    existing: dict[date, tuple[bool, str, str, str]] = {
        d: (w, k, n, s)
        for d, w, k, n, s in CalendarDay.objects.filter(
            date__gte=date(year_from, 1, 1), date__lte=date(year_to, 12, 31)
        ).values_list("date", "is_working_day", "kind", "holiday_name", "source")
    }
    note = _package_note()
    with transaction.atomic():
        for year in range(year_from, year_to + 1):
            record = years.get(year)
            if record is not None and record.source == CalendarSource.ADMIN and not force:
                report.kept_admin.append(year)
                continue
            wanted = list(sources.package_days(year))
            same = (
                record is not None
                and record.complete
                and len(wanted) == sum(1 for d in existing if d.year == year)
                and all(
                    existing.get(d.date) == (d.is_working_day, d.kind, d.holiday_name, CalendarSource.PACKAGE)
                    for d in wanted
                )
            )
            if same:
                report.unchanged.append(year)
                continue
            CalendarDay.objects.filter(date__year=year).delete()
            CalendarDay.objects.bulk_create(
                CalendarDay(
                    date=d.date,
                    is_working_day=d.is_working_day,
                    kind=d.kind,
                    holiday_name=d.holiday_name,
                    source=CalendarSource.PACKAGE,
                )
                for d in wanted
            )
            CalendarYear.objects.update_or_create(
                year=year, defaults={"complete": True, "source": CalendarSource.PACKAGE, "note": note}
            )
            report.written.append(year)
            report.days += len(wanted)
        if report.written:
            _changed()
    return report


def ensure_seeded() -> bool:
    """Seed from the package when the calendar table is empty (a fresh or flushed database)."""
    if CalendarDay.objects.exists():
        return False
    seed_from_package()
    return True


# -- administrators' edits ------------------------------------------------------------------
@dataclass
class ImportReport:
    year: CalendarYear
    holiday_days: int
    makeup_days: int


def import_year(
    year: int, text: str, *, user: User | AnonymousUser | None, complete: bool = True, note: str = ""
) -> ImportReport:
    """Replace one year's calendar with the arrangement in ``text`` (see ``arrangement``).

    Every date of the year gets a row: listed dates as given, the others by the weekend rule.
    Doing it twice with the same text gives the same calendar (double submit is harmless).
    """
    _check(user)
    if not 1900 <= year <= 2999:
        raise ValidationFailed([FieldError("year", _("年份应在 1900–2999 之间。"))])
    arrangement: Arrangement = parse_arrangement(year, text)
    with transaction.atomic():
        CalendarDay.objects.filter(date__year=year).delete()
        rows = []
        day = date(year, 1, 1)
        while day.year == year:
            kind, name = arrangement.days.get(day, (_weekend_rule(day), ""))
            rows.append(
                CalendarDay(
                    date=day,
                    is_working_day=kind in WORKING_KINDS,
                    kind=kind,
                    holiday_name=name,
                    source=CalendarSource.ADMIN,
                )
            )
            day += timedelta(days=1)
        CalendarDay.objects.bulk_create(rows)
        record, _created = CalendarYear.objects.update_or_create(
            year=year,
            defaults={"complete": complete, "source": CalendarSource.ADMIN, "note": note[:500]},
        )
        audit.record(
            "worktime.import_year",
            record,
            summary=_("导入%(year)s年节假日安排：%(h)s，%(m)s")
            % {"year": year, **holiday_counts(arrangement.holiday_days, arrangement.makeup_days)},
            detail={
                "year": year,
                "complete": complete,
                "holidays": sorted(
                    d.isoformat() for d, (k, _n) in arrangement.days.items() if k == DayKind.HOLIDAY
                ),
                "makeup_workdays": sorted(
                    d.isoformat() for d, (k, _n) in arrangement.days.items() if k == DayKind.MAKEUP_WORKDAY
                ),
            },
        )
        _changed()
    return ImportReport(record, arrangement.holiday_days, arrangement.makeup_days)


def check_day(day: date, kind: str, holiday_name: str) -> list[FieldError]:
    """The rules a single day must follow; a list of FieldErrors, empty when it is fine."""
    errors: list[FieldError] = []
    weekend = day.weekday() >= 5
    if kind not in DayKind.values:
        errors.append(FieldError("kind", _("类型无效。")))
    elif kind == DayKind.MAKEUP_WORKDAY and not weekend:
        errors.append(FieldError("kind", _("调休上班只能用于周六或周日；平日请选择“工作日”。")))
    elif kind == DayKind.WORKDAY and weekend:
        errors.append(FieldError("kind", _("周六、周日上班请选择“调休上班”。")))
    elif kind == DayKind.WEEKEND and not weekend:
        errors.append(FieldError("kind", _("“周末”只能用于周六或周日；平日放假请选择“法定节假日”。")))
    elif kind == DayKind.HOLIDAY and not holiday_name.strip():
        errors.append(FieldError("holiday_name", _("法定节假日须填写节日名称，如“春节”。")))
    return errors


def edit_day(
    day: date, kind: str, holiday_name: str = "", *, user: User | AnonymousUser | None
) -> CalendarDay:
    """Set one date's kind (e.g. a make-up day announced late, or a correction)."""
    _check(user)
    holiday_name = holiday_name.strip()
    if errors := check_day(day, kind, holiday_name):
        raise ValidationFailed(errors)
    if kind in (DayKind.WORKDAY, DayKind.WEEKEND):
        holiday_name = ""
    with transaction.atomic():
        row = CalendarDay.objects.select_for_update().filter(date=day).first()
        before = (row.kind, row.holiday_name) if row else (_weekend_rule(day), "")
        if row is None:
            row = CalendarDay(date=day)
        row.kind, row.holiday_name = kind, holiday_name
        row.is_working_day = kind in WORKING_KINDS
        row.source = CalendarSource.ADMIN
        row.save()
        record, created = CalendarYear.objects.get_or_create(
            year=day.year, defaults={"complete": False, "source": CalendarSource.ADMIN}
        )
        if not created:
            record.source = CalendarSource.ADMIN
            record.save(update_fields=["source", "updated_at"])  # the version stamp others watch
        audit.record(
            "worktime.edit_day",
            row,
            summary=_("修改 %(day)s：%(kind)s") % {"day": day.isoformat(), "kind": row.get_kind_display()},
            detail={"date": day.isoformat(), "before": list(before), "after": [kind, holiday_name]},
        )
        _changed()
    return row


def set_year(year: int, *, complete: bool, note: str = "", user: User | AnonymousUser | None) -> CalendarYear:
    """Mark a year's arrangement complete (or not). Complete needs a row for every date."""
    _check(user)
    with transaction.atomic():
        if complete:
            count = CalendarDay.objects.filter(date__year=year).count()
            if count != _days_in_year(year):
                raise ValidationFailed(
                    [
                        FieldError(
                            "complete",
                            _(
                                "%(year)s 年只有 %(n)s 天有记录，请先用“导入年度安排”录入全年的放假和补班安排。"
                            )
                            % {"year": year, "n": count},
                        )
                    ]
                )
        record, created = CalendarYear.objects.select_for_update().get_or_create(
            year=year, defaults={"complete": complete, "source": CalendarSource.ADMIN, "note": note[:500]}
        )
        before = record.complete
        if not created:
            record.complete, record.note, record.source = complete, note[:500], CalendarSource.ADMIN
            record.save()
        audit.record(
            "worktime.set_year",
            record,
            summary=_("%(year)s 年节假日安排：%(state)s")
            % {"year": year, "state": _("已完整录入") if complete else _("未完整录入")},
            detail={"year": year, "complete_before": before if not created else None, "complete": complete},
        )
        _changed()
    return record
