"""The workbench inbox page: keyset paging through the page links (next and previous, both
orders, ties), an edited cursor, filters served by ``Task.item_id``, the capped count, scopes."""

from __future__ import annotations

import datetime as dt
import importlib
import re
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.cases.conftest import submitted_case
from yiwang.workbench import selectors
from yiwang.workflow.models import Task

from .helpers import client_for

pytestmark = pytest.mark.django_db
INBOX = reverse("workbench:inbox")
CASE_LINK = re.compile(r'href="/workbench/cases/(\d+)/"')


def _link(html: str, rel: str) -> str | None:
    m = re.search(rf'href="\?([^"]*)" rel="{rel}"', html)
    return INBOX + "?" + m.group(1).replace("&amp;", "&") if m else None


def _cases(html: str) -> list[int]:
    return [int(x) for x in CASE_LINK.findall(html)]


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr(selectors, "PER_PAGE", 2)


@pytest.fixture
def seven(world):
    """Seven cases in the clerk's inbox; due dates and arrival times tie on purpose."""
    cases = [submitted_case(world) for _ in range(7)]
    same = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
    ids = [c.pk for c in cases]
    Task.objects.filter(case_id__in=ids[:4]).update(due_date=dt.date(2026, 3, 9))
    Task.objects.filter(case_id__in=ids[1:5]).update(created_at=same)
    return cases


def _expected(user, order: str) -> list[int]:
    tasks = list(Task.objects.filter(pk__in=[t.pk for t in selectors.wf_selectors.inbox(user)]))
    if order == "new":
        tasks.sort(key=lambda t: (t.created_at, t.pk), reverse=True)
    else:
        tasks.sort(key=lambda t: (t.due_date is None, t.due_date or dt.date.min, t.created_at, t.pk))
    return [t.case_id for t in tasks]


@pytest.mark.parametrize("order", ["due", "new"])
def test_next_and_previous_links_show_every_task_once(world, seven, small_pages, order):
    clerk = client_for(world.clerk)
    url = INBOX + ("?order=new" if order == "new" else "")
    pages, htmls = [], []
    while url:
        r = clerk.get(url)
        assert r.status_code == 200
        html = r.content.decode()
        assert "page=" not in html  # no page numbers in links: the cursor only
        pages.append(_cases(html))
        htmls.append(html)
        url = _link(html, "next")
    assert [c for p in pages for c in p] == _expected(world.clerk, order)
    assert sorted(c for p in pages for c in p) == sorted(c.pk for c in seven)
    assert [len(p) for p in pages] == [2, 2, 2, 1]
    assert "第 4 页" in htmls[-1] and _link(htmls[0], "prev") is None
    # Back from the last page to the first through the previous links.
    back, url = [], _link(htmls[-1], "prev")
    while url:
        html = clerk.get(url).content.decode()
        back.insert(0, _cases(html))
        url = _link(html, "prev")
    assert back == pages[:-1]


@pytest.mark.parametrize(
    "edit",
    [
        lambda c: c[:-3] + ("abc" if not c.endswith("abc") else "xyz"),  # signature no longer matches
        lambda c: "not-a-cursor",
        lambda c: "",
    ],
)
def test_an_edited_cursor_shows_page_one_with_a_message(world, seven, small_pages, edit):
    clerk = client_for(world.clerk)
    first = clerk.get(INBOX).content.decode()
    cursor = re.search(r"cursor=([^\"&]+)", first).group(1)
    r = clerk.get(INBOX, {"cursor": edit(cursor) or "x:y:z"})
    html = r.content.decode()
    assert r.status_code == 200
    assert "翻页链接无效或已过期" in html
    assert _cases(html) == _cases(first)


def test_a_cursor_of_the_other_order_is_refused(world, seven, small_pages):
    clerk = client_for(world.clerk)
    nxt = _link(clerk.get(INBOX).content.decode(), "next")
    html = clerk.get(nxt + "&order=new").content.decode()
    assert "翻页链接无效或已过期" in html
    assert _cases(html) == _expected(world.clerk, "new")[:2]


def test_other_departments_tasks_never_appear(world, seven, small_pages):
    far = client_for(world.far_clerk)
    submitted_case(world)  # still the clerk's department
    url, seen = INBOX, []
    while url:
        html = far.get(url).content.decode()
        seen += _cases(html)
        url = _link(html, "next")
    assert not set(seen) & set(_expected(world.clerk, "due"))
    assert "共 0 条" in far.get(INBOX).content.decode()


def test_item_filter_reads_the_tasks_item(world, seven):
    clerk = client_for(world.clerk)
    moved = seven[0]
    Task.objects.filter(case_id=moved.pk).update(item_id=world.instant_item.pk)
    html = clerk.get(INBOX, {"item": world.item.code}).content.decode()
    assert set(_cases(html)) == {c.pk for c in seven[1:]}
    assert _cases(clerk.get(INBOX, {"item": world.instant_item.code}).content.decode()) == [moved.pk]
    assert _cases(clerk.get(INBOX, {"item": "no-such-item"}).content.decode()) == []


def test_count_is_capped_and_made_on_page_one(world, seven, monkeypatch, small_pages):
    clerk = client_for(world.clerk)
    first = clerk.get(INBOX).content.decode()
    assert "共 7 条" in first
    submitted_case(world)
    # Later pages show page 1's figure (carried in the signed cursor, not counted again).
    counted = []
    real = selectors.wf_selectors.inbox_count
    monkeypatch.setattr(
        selectors.wf_selectors, "inbox_count", lambda *a, **k: counted.append(1) or real(*a, **k)
    )
    html = clerk.get(_link(first, "next")).content.decode()
    assert "共 7 条" in html and counted == []
    # A filter edited into a link is counted afresh (the carried figure was for other filters).
    html = clerk.get(_link(first, "next") + "&step=review").content.decode()
    assert "共 0 条" in html and counted == [1]
    assert "共 8 条" in clerk.get(INBOX).content.decode()
    monkeypatch.setattr(selectors, "COUNT_CAP", 5)
    assert "共 5+ 条" in clerk.get(INBOX).content.decode()


def test_deep_pages_cost_the_same_queries_as_page_one(world, seven, small_pages):
    clerk = client_for(world.clerk)
    clerk.get(INBOX)  # warm the calendar cache
    with CaptureQueriesContext(connection) as one:
        html = clerk.get(INBOX).content.decode()
    for _ in range(2):
        html = clerk.get(_link(html, "next")).content.decode()
    with CaptureQueriesContext(connection) as deep:
        clerk.get(_link(html, "next"))
    assert "OFFSET" not in " ".join(q["sql"] for q in deep.captured_queries).upper()
    assert len(deep) <= len(one) + 2  # a cursor inside the dated rows may read the undated ones too


def test_migration_fills_item_id_from_the_case(world, seven):
    migration = importlib.import_module("yiwang.workflow.migrations.0003_task_item_id_keyset_indexes")
    Task.objects.filter(case_id__in=[c.pk for c in seven]).update(item_id=None)
    migration.fill_item_id(None, SimpleNamespace(connection=connection))
    rows = Task.objects.filter(case_id__in=[c.pk for c in seven]).values_list("item_id", flat=True)
    assert set(rows) == {world.item.pk}
