"""The inbox page's rows as the template renders them: values escaped, the tags translated,
every case link reaching its case page, a message when there is nothing to do."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.conf import settings
from django.urls import resolve, reverse

from tests.cases.conftest import submitted_case
from yiwang.cases.models import Case

from .helpers import client_for

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert('x')</script> & \"张三\""


def test_an_empty_inbox_says_so(world):
    html = client_for(world.clerk).get(reverse("workbench:inbox")).content.decode()
    assert '<td colspan="6" class="empty">没有待办任务。</td>' in html


def test_rows_escape_their_values_and_link_to_their_cases(world):
    cases = [submitted_case(world) for _ in range(3)]
    Case.objects.filter(pk=cases[0].pk).update(applicant_name=HOSTILE, item_name=HOSTILE)
    clerk = client_for(world.clerk)
    html = clerk.get(reverse("workbench:inbox")).content.decode()
    assert "<script>" not in html
    cells = re.findall(r"<td>([^<]*)</td>", html)
    assert [unescape(c) for c in cells].count(HOSTILE) == 2  # item and applicant, as text
    assert "没有待办任务" not in html
    links = [unescape(h) for h in re.findall(r'<td><a href="([^"]+)">', html)]
    assert sorted(resolve(link).kwargs["case_id"] for link in links) == sorted(c.pk for c in cases)
    for link in links:
        assert resolve(link).view_name == "workbench:case"
        assert clerk.get(link).status_code == 200


def test_counter_tag_in_the_readers_language(world):
    case = submitted_case(world)
    Case.objects.filter(pk=case.pk).update(channel="counter")
    clerk = client_for(world.clerk)
    clerk.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = clerk.get(reverse("workbench:inbox")).content.decode()
    row = re.search(rf"<td><a [^>]+>{case.number}</a>(.*?)</td>", html).group(1)
    assert '<span class="tag">' in row and "窗口" not in row


def test_rows_and_case_page_in_traditional_chinese(world):
    case = submitted_case(world)
    clerk = client_for(world.clerk)
    clerk.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hant"
    html = clerk.get(reverse("workbench:inbox")).content.decode()
    row = re.search(rf"<td><a [^>]+>{case.number}</a>.*?</tr>", html, re.S).group(0)
    assert "<td>食品經營許可</td>" in row and "食品经营许可" not in row
    assert re.search(r"<option value=\"review\">審查</option>", html)  # the step filter, translated
    page = clerk.get(reverse("workbench:case", args=[case.pk])).content.decode()
    assert "<h1>食品經營許可</h1>" in page and "鼓樓區市場監督管理局" in page
    assert Case.objects.get(pk=case.pk).item_name == "食品经营许可"


def test_case_page_in_english_labels_the_acceptance_date(world):
    from yiwang.cases import actions

    case = actions.Accept(submitted_case(world), world.clerk).run()
    clerk = client_for(world.clerk)
    clerk.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = clerk.get(reverse("workbench:case", args=[case.pk])).content.decode()
    assert f"Accepted {case.accepted_on:%Y-%m-%d}" in page
    assert "1 working days" not in page


def test_step_column_names_a_shipped_step_in_the_readers_language(world):
    from yiwang.workflow.models import Task

    case = submitted_case(world)
    clerk = client_for(world.clerk)
    clerk.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    def step_cell() -> str:
        html = clerk.get(reverse("workbench:inbox")).content.decode()
        row = re.search(rf"<td><a [^>]+>{case.number}</a>.*?</tr>", html, re.S).group(0)
        return re.findall(r"<td>(.*?)</td>", row, re.S)[3]  # number, item, applicant, step

    assert step_cell() == "Accept"
    # A step renamed in its diagram keeps its own name.
    Task.objects.filter(case_id=case.pk, spec_name="accept").update(label="现场收件")
    clerk.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hant"
    assert step_cell() == "現場收件"
    clerk.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert step_cell() == "现场收件"  # a name of its own stays as written


def test_case_page_heads_the_actions_with_the_step(world):
    case = submitted_case(world)
    clerk = client_for(world.clerk)
    clerk.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = clerk.get(reverse("workbench:case", args=[case.pk])).content.decode()
    assert "<h2>Handle: Accept</h2>" in page and "Handle：" not in page
    clerk.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hant"
    assert "<h2>辦理：受理</h2>" in clerk.get(reverse("workbench:case", args=[case.pk])).content.decode()
