"""The back office: only platform administrators edit the calendar; the year import form
reports bad rows in Chinese next to the field and writes nothing; edits are audited and move
deadlines at once. And the seed command."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from tests.identity.auth.helpers import login_with_second_factor
from yiwang.core.errors import NotPermitted, ValidationFailed
from yiwang.core.models import AuditEntry
from yiwang.identity.models import Role, StaffRole
from yiwang.worktime import selectors as wt
from yiwang.worktime import services
from yiwang.worktime.arrangement import arrangement_text, parse_arrangement
from yiwang.worktime.models import CalendarDay, CalendarYear

pytestmark = pytest.mark.django_db
User = get_user_model()

ARRANGEMENT_2027 = """# 2027 年（测试用，非真实安排）
类型,名称,开始日期,结束日期
放假,元旦,2027-01-01,2027-01-03
放假,春节,2027-02-05,2027-02-12
补班,春节,2027-02-14
补班，春节，2027/2/20
"""


@pytest.fixture
def platform_admin():
    user = User.objects.create_user("platform", password="pw-123456789", is_staff=True)
    StaffRole.objects.create(user=user, role=Role.PLATFORM_ADMIN)
    return user


@pytest.fixture
def catalogue_admin():
    user = User.objects.create_user("catalogue", password="pw-123456789", is_staff=True)
    StaffRole.objects.create(user=user, role=Role.CATALOGUE_ADMIN)
    return user


# -- parsing --------------------------------------------------------------------------------
def test_parse_accepts_chinese_punctuation_headers_and_comments():
    arrangement = parse_arrangement(2027, ARRANGEMENT_2027)
    assert arrangement.holiday_days == 3 + 8 and arrangement.makeup_days == 2
    assert arrangement.days[date(2027, 2, 20)] == ("makeup_workday", "春节")


def test_parse_reports_every_bad_row_with_its_line():
    text = "\n".join(
        [
            "放假,春节,2027-02-05,2027-02-12",  # 1 fine
            "休假,端午,2027-06-09",  # 2 unknown type
            "放假,,2027-05-01",  # 3 no name
            "放假,中秋,2027-09-31",  # 4 no such date
            "放假,国庆节,2027-10-07,2027-10-01",  # 5 end before start
            "补班,国庆节,2027-09-29",  # 6 a Wednesday
            "放假,春节,2027-02-10",  # 7 already on line 1
            "放假,元旦,2026-12-31,2027-01-01",  # 8 crosses the year
            "放假,元旦",  # 9 too few columns
        ]
    )
    with pytest.raises(ValidationFailed) as exc:
        parse_arrangement(2027, text)
    messages = exc.value.messages
    assert [m.split("：", 1)[0] for m in messages] == [f"第 {n} 行" for n in range(2, 10)]
    joined = "\n".join(messages)
    for expected in [
        "类型“休假”无效",
        "放假须填写节日名称",
        "开始日期“2027-09-31”无效",
        "早于开始日期",
        "2027-09-29 是星期三，补班日应为周六或周日",
        "已在第 1 行中安排",
        "日期须在 2027 年内",
        "应为“类型,名称,开始日期[,结束日期]”",
    ]:
        assert expected in joined


def test_parse_refuses_an_empty_arrangement():
    with pytest.raises(ValidationFailed, match="没有找到任何放假或补班安排"):
        parse_arrangement(2027, "# nothing\n\n")


def test_arrangement_text_round_trips_the_package_years():
    for year in (2024, 2025, 2026):
        days = wt.year_days(year)
        assert parse_arrangement(year, arrangement_text(year, days)).days == days


# -- services -------------------------------------------------------------------------------
def test_only_platform_admins_edit(catalogue_admin):
    with pytest.raises(NotPermitted):
        services.import_year(2027, ARRANGEMENT_2027, user=catalogue_admin)
    with pytest.raises(NotPermitted):
        services.edit_day(date(2026, 5, 4), "holiday", "劳动节", user=catalogue_admin)
    assert not CalendarYear.objects.filter(year=2027).exists()


def test_import_is_audited_and_repeatable(platform_admin):
    for _ in range(2):  # a double submit gives the same calendar
        report = services.import_year(
            2027, ARRANGEMENT_2027, user=platform_admin, note="国办发明电〔2026〕×号"
        )
    assert (report.holiday_days, report.makeup_days) == (11, 2)
    assert CalendarDay.objects.filter(date__year=2027).count() == 365
    assert CalendarDay.objects.get(date=date(2027, 2, 14)).is_working_day
    assert CalendarDay.objects.get(date=date(2027, 2, 8)).kind == "holiday"
    year = CalendarYear.objects.get(year=2027)
    assert year.complete and year.source == "admin"
    entries = AuditEntry.objects.filter(action="worktime.import_year")
    assert entries.count() == 2
    assert "2027-02-14" in entries.last().detail["makeup_workdays"]


def test_a_bad_import_writes_nothing(platform_admin):
    with pytest.raises(ValidationFailed):
        services.import_year(
            2026, "放假,劳动节,2026-05-01,2026-05-05\n补班,劳动节,2026-05-06\n", user=platform_admin
        )
    assert CalendarYear.objects.get(year=2026).source == "chinesecalendar"
    assert not AuditEntry.objects.filter(action="worktime.import_year").exists()


def test_edit_day_moves_deadlines_at_once(platform_admin):
    # Say the province declares Monday 9 March 2026 a day off.
    assert wt.add_working_days(date(2026, 3, 6), 1).date == date(2026, 3, 9)
    services.edit_day(date(2026, 3, 9), "holiday", "测试假日", user=platform_admin)
    assert wt.add_working_days(date(2026, 3, 6), 1).date == date(2026, 3, 10)
    entry = AuditEntry.objects.get(action="worktime.edit_day")
    assert entry.detail == {"date": "2026-03-09", "before": ["workday", ""], "after": ["holiday", "测试假日"]}


def test_edit_day_rules(platform_admin):
    with pytest.raises(ValidationFailed, match="调休上班只能用于周六或周日"):
        services.edit_day(date(2026, 3, 9), "makeup_workday", "", user=platform_admin)
    with pytest.raises(ValidationFailed, match="周六、周日上班请选择"):
        services.edit_day(date(2026, 3, 7), "workday", "", user=platform_admin)
    with pytest.raises(ValidationFailed, match="须填写节日名称"):
        services.edit_day(date(2026, 3, 9), "holiday", " ", user=platform_admin)


def test_a_year_is_complete_only_with_every_day(platform_admin):
    services.edit_day(date(2027, 1, 1), "holiday", "元旦", user=platform_admin)
    assert not CalendarYear.objects.get(year=2027).complete
    assert wt.add_working_days(date(2026, 12, 31), 1).date == date(2027, 1, 4)  # the edited day is used
    assert wt.add_working_days(date(2026, 12, 31), 1).estimated  # but the year is still a guess
    with pytest.raises(ValidationFailed, match="2027 年只有 1 天有记录"):
        services.set_year(2027, complete=True, user=platform_admin)
    services.import_year(2027, ARRANGEMENT_2027, user=platform_admin, complete=False)
    assert wt.add_working_days(date(2026, 12, 31), 1).estimated
    services.set_year(2027, complete=True, note="已核对", user=platform_admin)
    assert not wt.add_working_days(date(2026, 12, 31), 1).estimated
    assert AuditEntry.objects.filter(action="worktime.set_year").count() == 1


# -- back office pages ----------------------------------------------------------------------
def test_back_office_is_for_platform_admins_only(client, catalogue_admin):
    login_with_second_factor(client, catalogue_admin)
    assert client.get(reverse("admin:worktime_calendaryear_changelist")).status_code == 403
    assert client.get(reverse("admin:worktime_import_year")).status_code == 403


def test_import_form_shows_row_errors_next_to_the_field(client, platform_admin):
    login_with_second_factor(client, platform_admin)
    page = client.get(reverse("admin:worktime_import_year") + "?year=2026")
    assert page.status_code == 200
    assert "放假,春节,2026-02-15,2026-02-23" in page.content.decode()  # prefilled from the record
    resp = client.post(
        reverse("admin:worktime_import_year"),
        {"year": 2027, "text": "放假,春节,2027-02-05,2027-02-12\n补班,春节,2027-02-10\n", "complete": "on"},
    )
    body = resp.content.decode()
    assert resp.status_code == 200
    assert 'id="id_text_errors"' in body and "第 2 行：2027-02-10 已在第 1 行中安排" in body
    assert not CalendarYear.objects.filter(year=2027).exists()


def test_import_form_imports(client, platform_admin):
    login_with_second_factor(client, platform_admin)
    resp = client.post(
        reverse("admin:worktime_import_year"),
        {"year": 2027, "text": ARRANGEMENT_2027, "complete": "on", "note": "测试"},
        follow=True,
    )
    assert "已导入2027年节假日安排：放假 11 天，补班 2 天" in resp.content.decode()
    assert not wt.due_date(date(2026, 12, 20), 10).estimated


def test_day_change_form_goes_through_the_service(client, platform_admin):
    login_with_second_factor(client, platform_admin)
    day = CalendarDay.objects.get(date=date(2026, 3, 9))
    url = reverse("admin:worktime_calendarday_change", args=[day.pk])
    resp = client.post(url, {"kind": "makeup_workday", "holiday_name": ""})
    assert resp.status_code == 200 and "调休上班只能用于周六或周日" in resp.content.decode()
    resp = client.post(url, {"kind": "holiday", "holiday_name": "测试假日"})
    assert resp.status_code == 302
    day.refresh_from_db()
    assert (day.kind, day.is_working_day, day.source) == ("holiday", False, "admin")
    assert AuditEntry.objects.filter(action="worktime.edit_day").exists()
    assert not wt.is_working_day(date(2026, 3, 9))


def test_year_change_form_refuses_complete_without_days(client, platform_admin):
    login_with_second_factor(client, platform_admin)
    resp = client.post(
        reverse("admin:worktime_calendaryear_add"), {"year": 2028, "complete": "on", "note": ""}
    )
    assert resp.status_code == 200 and "2028 年只有 0 天有记录" in resp.content.decode()
    resp = client.post(reverse("admin:worktime_calendaryear_add"), {"year": 2028, "note": "尚未公布"})
    assert resp.status_code == 302
    assert CalendarYear.objects.get(year=2028).note == "尚未公布"


# -- the seed command -----------------------------------------------------------------------
def test_seed_command_is_idempotent_and_keeps_admin_years(platform_admin, capsys):
    call_command("seed_calendar")
    assert "写入 0 个年度" in capsys.readouterr().out
    services.import_year(2026, arrangement_text(2026, wt.year_days(2026)), user=platform_admin)
    CalendarDay.objects.filter(date__year=2024).delete()
    call_command("seed_calendar", "--from", "2020", "--to", "2026")
    out = capsys.readouterr().out
    assert "写入 1 个年度（366 天）" in out and "保留管理员录入 1 个（2026" in out
    assert CalendarDay.objects.filter(date__year=2024).count() == 366
    assert CalendarYear.objects.get(year=2026).source == "admin"
    call_command("seed_calendar", "--from", "2026", "--to", "2026", "--force")
    assert CalendarYear.objects.get(year=2026).source == "chinesecalendar"
    assert AuditEntry.objects.filter(action="worktime.seed").count() == 2


def test_seed_command_refuses_years_the_package_lacks():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="2027 年请由管理员录入"):
        call_command("seed_calendar", "--to", "2027")


def test_lists_render_for_platform_admins(client, platform_admin):
    login_with_second_factor(client, platform_admin)
    years = client.get(reverse("admin:worktime_calendaryear_changelist"))
    assert years.status_code == 200
    body = years.content.decode()
    assert "导入年度安排" in body and "查看全年" in body
    days = client.get(reverse("admin:worktime_calendarday_changelist") + "?date__year=2024&date__month=2")
    assert days.status_code == 200
    assert "调休上班" in days.content.decode() and "星期日" in days.content.decode()
