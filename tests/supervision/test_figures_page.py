"""The supervisor's figures page: scope, date range, sorting, totals, bad input, xlsx export."""

from __future__ import annotations

import io

from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from tests.cases.conftest import staff, submitted_case
from tests.workbench.helpers import client_for
from yiwang.cases import actions
from yiwang.identity.models import Role


def _cases(world):
    a = submitted_case(world)
    actions.Accept(a, world.clerk).run()
    submitted_case(world)


def test_figures_page_in_scope_with_totals_and_sort(world):
    _cases(world)
    near = staff("sup_near", Role.SUPERVISOR, region=world.regions["county"])
    far = staff("sup_far", Role.SUPERVISOR, region=world.regions["other_city"])
    url = reverse("workbench:figures")
    html = client_for(near).get(url).content.decode()  # the embedded default folds on read
    assert 'id="figures-table"' in html and world.dept.name in html
    assert '<td class="num">2</td>' in html  # received
    html = client_for(far).get(url).content.decode()
    assert world.dept.name not in html and "所选期间没有数据" in html
    for by in ("region", "item"):
        r = client_for(near).get(url, {"by": by, "sort": "accepted", "dir": "asc"})
        assert r.status_code == 200
    assert 'aria-sort="ascending"' in r.content.decode()
    assert client_for(world.clerk).get(url).status_code == 403
    assert client_for(world.head).get(url).status_code == 200


def test_bad_dates_are_shown_next_to_the_field(world):
    sup = staff("sup", Role.SUPERVISOR, region=world.regions["county"])
    r = client_for(sup).get(reverse("workbench:figures"), {"from": "2026-02-31", "to": "x"})
    assert r.status_code == 400
    html = r.content.decode()
    assert 'id="e-from"' in html and 'id="e-to"' in html
    r = client_for(sup).get(reverse("workbench:figures"), {"from": "2026-03-01", "to": "2026-02-01"})
    assert r.status_code == 400 and "开始日期不能晚于结束日期" in r.content.decode()


def test_xlsx_export_opens_with_the_rows_and_totals(world):
    _cases(world)
    sup = staff("sup", Role.SUPERVISOR, region=world.regions["county"])
    today = timezone.localdate().isoformat()
    r = client_for(sup).get(reverse("workbench:figures"), {"format": "xlsx", "from": today, "to": today})
    assert r.status_code == 200
    assert r["Content-Type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(r.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[1][0] == "部门" and rows[1][2] == "收件"
    assert rows[2][0] == world.dept.name and rows[2][2] == 2 and rows[2][3] == 1
    assert rows[-1][0] == "合计" and rows[-1][2] == 2
