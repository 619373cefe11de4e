"""The warning level and flags on the case page, the notices on the inbox and the supervisor's
list of warned cases within their scope."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from tests.cases.conftest import staff, submitted_case
from tests.workbench.helpers import client_for
from yiwang.cases import actions
from yiwang.identity.models import Role
from yiwang.supervision import selectors as supervision_selectors
from yiwang.supervision import services
from yiwang.supervision.models import StaffNotice

from .test_warnings import MONDAY, _mail, on  # noqa: F401  (fixture reused)


def accepted(world, item=None):
    case = submitted_case(world, item)
    with on(MONDAY):
        return actions.Accept(case, world.clerk).run()


def test_case_page_shows_level_and_flags(world):
    case = accepted(world)
    html = client_for(world.approver).get(reverse("workbench:case", args=[case.pk])).content.decode()
    assert 'id="case-warning"' in html and 'data-level="green"' in html
    services.sweep(today=dt.date(2025, 3, 18))
    services.flag(case, "second_correction", "第 2 次要求补正")
    html = client_for(world.approver).get(reverse("workbench:case", args=[case.pk])).content.decode()
    assert 'data-level="red"' in html
    assert 'data-rule="second_correction"' in html and "第 2 次要求补正" in html


def test_inbox_lists_unread_notices_until_read(world):
    case = accepted(world)
    services.sweep(today=dt.date(2025, 3, 13))
    client = client_for(world.approver)
    html = client.get(reverse("workbench:inbox")).content.decode()
    assert 'id="warning-notices"' in html and case.number in html
    for _ in range(3):
        client.get(reverse("workbench:inbox"))
    assert StaffNotice.objects.filter(case=case).count() == 3  # page views notify nobody
    client.post(reverse("workbench:notices_read"))
    assert 'id="warning-notices"' not in client.get(reverse("workbench:inbox")).content.decode()
    # Someone else's notices stay unread.
    assert StaffNotice.objects.filter(user=world.head, read_at__isnull=True).count() == 1


def test_inbox_remembers_no_notices_until_one_is_written(world, django_assert_num_queries):
    """The inbox skips the notices query for a reader known to have none (supervision.selectors
    ``unread_notices``), and shows a notice written after that at the next view."""
    case = accepted(world)
    client = client_for(world.approver)
    assert 'id="warning-notices"' not in client.get(reverse("workbench:inbox")).content.decode()
    assert supervision_selectors.unread_notices(world.approver) == []
    with django_assert_num_queries(0):
        supervision_selectors.unread_notices(world.approver)
    services.sweep(today=dt.date(2025, 3, 13))  # writes the yellow notice: forgets "none"
    html = client.get(reverse("workbench:inbox")).content.decode()
    assert 'id="warning-notices"' in html and case.number in html
    client.post(reverse("workbench:notices_read"))
    assert 'id="warning-notices"' not in client.get(reverse("workbench:inbox")).content.decode()
    services.sweep(today=dt.date(2025, 3, 18))  # red now: a second notice
    assert 'id="warning-notices"' in client.get(reverse("workbench:inbox")).content.decode()


def test_supervisor_list_respects_scope(world):
    near = staff("sup_near", Role.SUPERVISOR, region=world.regions["county"])
    far = staff("sup_far", Role.SUPERVISOR, region=world.regions["other_city"])
    case = accepted(world)
    green = accepted(world)
    services.sweep(today=dt.date(2025, 3, 13))
    # The second case is green again: resumed later, so only one warned case.
    with on(dt.date(2025, 3, 4)):
        actions.Suspend(green, world.approver, reasons="等待鉴定").run()
    services.sweep(today=dt.date(2025, 3, 13))
    html = client_for(near).get(reverse("workbench:warnings")).content.decode()
    assert f'data-case="{case.number}"' in html and f'data-case="{green.number}"' not in html
    html = client_for(far).get(reverse("workbench:warnings")).content.decode()
    assert f'data-case="{case.number}"' not in html
    assert client_for(world.clerk).get(reverse("workbench:warnings")).status_code == 403
    head_html = client_for(world.head).get(reverse("workbench:warnings")).content.decode()
    assert f'data-case="{case.number}"' in head_html


def test_inbox_marks_warned_rows_with_one_query(world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cases = [accepted(world) for _ in range(3)]
    services.sweep(today=dt.date(2025, 3, 13))  # all yellow
    client = client_for(world.approver)
    with CaptureQueriesContext(connection) as ctx:
        html = client.get(reverse("workbench:inbox")).content.decode()
    assert html.count('data-warning="yellow"') == 3
    assert sum("supervision_casewarning" in q["sql"] for q in ctx.captured_queries) == 1
    assert all(c.number in html for c in cases)
