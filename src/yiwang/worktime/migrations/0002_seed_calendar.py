"""Seed the calendar from the chinesecalendar package (2004 to its last year) so that a fresh
``yiwang migrate`` has statutory holidays and make-up days. ``yiwang seed_calendar`` does the
same later (e.g. after upgrading the package) and keeps administrators' years."""

from django.db import migrations


def seed(apps, schema_editor):
    from yiwang.worktime import sources

    CalendarDay = apps.get_model("worktime", "CalendarDay")
    CalendarYear = apps.get_model("worktime", "CalendarYear")
    taken = set(CalendarYear.objects.values_list("year", flat=True))
    rows, years = [], []
    for year in sources.package_years():
        if year in taken:
            continue
        years.append(CalendarYear(year=year, complete=True, source="chinesecalendar", note="chinesecalendar"))
        rows.extend(
            CalendarDay(
                date=d.date,
                is_working_day=d.is_working_day,
                kind=d.kind,
                holiday_name=d.holiday_name,
                source="chinesecalendar",
            )
            for d in sources.package_days(year)
        )
    CalendarDay.objects.bulk_create(rows, batch_size=2000)
    CalendarYear.objects.bulk_create(years)


class Migration(migrations.Migration):
    dependencies = [("worktime", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
