"""The result rows built in Python (portal_html.item_rows) are, byte for byte, what the
template loop they replace rendered (_item_rows.html), every value escaped, in each language."""

from __future__ import annotations

import pytest
from django.template import engines
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import mark_safe

from yiwang.catalog.search import highlight
from yiwang.catalog.selectors import normalize_row

# _item_rows.html as it was before the rows moved to Python.
TEMPLATE_LOOP = """{% load i18n portal_html %}{% translate '办理信息' as badges_label %}<ol class="item-list">
{% for row in rows %}
  <li class="item-row">
    <h3 class="item-name"><a href="{{ row.code|guide_href }}">{% if row.name_html %}{{ row.name_html }}{% else %}{{ row.name }}{% endif %}</a></h3>
    <p class="item-meta"><span class="item-dept">{{ row.department_name }}</span> · <span class="item-region">{{ row.region_name }}</span></p>
    <ul class="badges" aria-label="{{ badges_label }}">
      <li class="badge depth-{{ row.online_depth }}">{{ row.depth_label }}</li>
      <li class="badge">{{ row.limit_label }}</li>
      <li class="badge">{{ row.visits_label }}</li>
    </ul>
  </li>
{% endfor %}
</ol>
"""

HOSTILE = "<img src=x onerror=alert(1)> & \"'"


def rows() -> list[dict]:
    base = {"online_depth": 4, "promised_limit_days": "5", "onsite_visits": "0", "is_instant": "false"}
    return [
        normalize_row({**base, "code": "113501000000001", "name": "普通护照签发", "department_name": "福州市公安局",
                       "region_name": "福州市"}),
        normalize_row({**base, "code": "A&B<1>", "name": HOSTILE, "department_name": HOSTILE, "region_name": HOSTILE,
                       "online_depth": 9, "onsite_visits": "3", "is_instant": "true"}),
        {**normalize_row({**base, "code": "113501000000002", "name": "社会保障卡申领", "department_name": "人社局",
                          "region_name": "鼓楼区", "promised_limit_days": None, "onsite_visits": 1}),
         "name_html": mark_safe(highlight("社会保障卡申领", "社保"))},
    ]  # fmt: skip


@pytest.mark.parametrize("language", ["zh-hans", "zh-hant", "en"])
def test_python_rows_are_the_template_loops_output(language):
    with translation.override(language):
        shown = rows()
        expected = engines["django"].from_string(TEMPLATE_LOOP).render({"rows": shown})
        assert render_to_string("portal/_item_rows.html", {"rows": shown}) == expected


def test_values_are_escaped():
    html = render_to_string("portal/_item_rows.html", {"rows": rows()})
    assert "<img" not in html and "&lt;img" in html
    assert "<mark>" in html  # the highlighted name, as the search package escaped and marked it
