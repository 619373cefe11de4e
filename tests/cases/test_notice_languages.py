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
