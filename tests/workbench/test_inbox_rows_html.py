"""The inbox's rows built in Python (workbench_html.inbox_rows) are, byte for byte, what the
template loop they replace rendered, with every value escaped, in each interface language."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.utils import translation

from yiwang.workbench.selectors import InboxRow
from yiwang.workbench.templatetags.workbench_html import inbox_rows

# The loop as inbox.html had it before the rows moved to Python.
TEMPLATE_LOOP = Template(
    """{% load i18n %}{% translate "窗口" as counter_tag %}{% translate "转给我" as assigned_tag %}"""
    """{% for r in rows %}<tr class="row-{{ r.light }}">
      <td><a href="{{ r.href }}">{{ r.number }}</a>{% if r.counter %} <span class="tag">{{ counter_tag }}</span>{% endif %}</td>
      <td>{{ r.item_name }}</td><td>{{ r.applicant_name }}</td>
      <td>{{ r.label }}{% if r.assigned %} <span class="tag">{{ assigned_tag }}</span>{% endif %}</td>
      <td>{{ r.due }}</td>
      <td><span class="{{ r.left_class }}">{{ r.left }}</span></td>
    </tr>{% empty %}<tr><td colspan="6" class="empty">{% translate "没有待办任务。" %}</td></tr>{% endfor %}"""
)

HOSTILE = "<script>alert('x')</script> & \"张三\""


def rows() -> list[InboxRow]:
    return [
        InboxRow(None, 3, "green", "/workbench/cases/1/", number="FJ2026-1", item_name="普通护照签发",
                 applicant_name="张三", label="受理", due="2026-12-01", left="3 个工作日",
                 left_class="light light-green"),
        InboxRow(None, -2, "red", "/workbench/cases/2/?a=1&b=2", number="FJ2026-2", item_name=HOSTILE,
                 applicant_name=HOSTILE, label=HOSTILE, counter=True, assigned=True, due="2026-11-20",
                 left="超期 2 个工作日", left_class="light light-red"),
        InboxRow(None, None, "none", "/workbench/cases/3/", number="3", item_name="", applicant_name="",
                 label="审查", counter=True, left="未起算"),
    ]  # fmt: skip


@pytest.mark.parametrize("language", ["zh-hans", "zh-hant", "en"])
@pytest.mark.parametrize("shown", [rows(), []], ids=["rows", "empty"])
def test_python_rows_are_the_template_loops_output(language, shown):
    with translation.override(language):
        assert inbox_rows(shown) == TEMPLATE_LOOP.render(Context({"rows": shown}))


def test_values_are_escaped_and_tags_translated():
    with translation.override("en"):
        html = inbox_rows(rows())
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="/workbench/cases/2/?a=1&amp;b=2"' in html
    assert '<span class="tag">' in html and "窗口" not in html  # the tags in English
