"""A notice issued while 繁體中文 is active is set in Traditional characters, its data included
(cases.notices.render_pdf, core/hant.py); otherwise in Simplified characters as stored."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from django.utils import translation

from yiwang.cases import actions, notices
from yiwang.cases.models import NoticeKind

from .conftest import submitted_case
from .test_notices import read, text_of


def test_decision_notice_in_traditional_chinese(world):
    case = submitted_case(world)
    case = actions.Accept(case, world.clerk).run()
    case = actions.Review(case, world.approver, decision="pass").run()
    case = actions.Decide(case, world.head, decision="deny", reasons="经营场所面积不足").run()
    with translation.override("zh-hant"):
        data = read(notices.issue(case, NoticeKind.DECISION))
    text = text_of(data)
    assert "食品經營許可" in text  # the item's name
    assert "鼓樓區市場監督管理局" in text  # the department
    assert "經營場所面積不足" in text  # the reasons a clerk wrote
    assert "不予行政許可決定書" in text  # the notice's own wording
    assert case.number in text and case.check_code in text
    assert "食品经营许可" not in text and "监督管理局" not in text
    if shutil.which("pdftotext"):
        out = subprocess.run(
            ["pdftotext", "-", "-"], input=data, capture_output=True, check=True
        ).stdout.decode()
        assert "鼓樓區市場監督管理局" in out
    case.refresh_from_db()
    assert case.reasons == "经营场所面积不足" and case.item_name == "食品经营许可"  # stored as written


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_notice_in_other_languages_stays_simplified(world, language):
    case = submitted_case(world)
    with translation.override(language):
        text = text_of(read(notices.issue(case, NoticeKind.RECEIPT)))
    assert "食品经营许可" in text and "鼓楼区市场监督管理局" in text and "收件回执" in text


def test_the_after_commit_job_draws_the_notice_in_the_language_of_the_step(
    world, django_capture_on_commit_callbacks
):
    from yiwang.cases import after_commit, tasks

    # The test's transaction never commits: the submission's batch collects the step's notices.
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        case = submitted_case(world)
        with translation.override("zh-hant"):
            case = actions.Accept(case, world.clerk).run()
    named = [n for cb in callbacks if isinstance(cb, after_commit._Batch) for n in cb.notices]
    acceptance = [n for n in named if n[1] == NoticeKind.ACCEPTANCE]
    assert acceptance == [(case.pk, NoticeKind.ACCEPTANCE, "zh-hant")]
    # A worker runs the job in its own default language: the named language wins.
    with translation.override("zh-hans"):
        tasks.after_commit([], [list(n) for n in acceptance], [])
    notice = case.notices.get(kind=NoticeKind.ACCEPTANCE)
    assert "受理通知書" in text_of(read(notice)) and "食品經營許可" in text_of(read(notice))
    # A message from an older version names no language: the site's default.
    tasks.after_commit([], [[case.pk, NoticeKind.CORRECTION]], [])
    correction = case.notices.get(kind=NoticeKind.CORRECTION)
    assert "食品经营许可" in text_of(read(correction))
