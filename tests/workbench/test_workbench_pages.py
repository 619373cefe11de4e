"""Workbench pages: inbox (filters, badges, bounded queries), case page scope, actions through
the page, counter entry."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from tests.cases.conftest import PDF, submitted_case
from yiwang.cases.models import Case, CaseState
from yiwang.workflow.models import Task

from .helpers import client_for

pytestmark = pytest.mark.django_db


def act(client, case, name, **data):
    return client.post(reverse("workbench:act", args=[case.pk, name]), data)


def test_workbench_needs_login_and_a_working_role(world):
    r = Client().get(reverse("workbench:inbox"))
    assert r.status_code == 302 and "/auth/login/" in r["Location"]
    assert client_for(world.applicant).get(reverse("workbench:inbox")).status_code == 403


def test_inbox_lists_the_departments_tasks_with_filters(world):
    case = submitted_case(world)
    clerk = client_for(world.clerk)
    page = clerk.get(reverse("workbench:inbox"))
    html = page.content.decode()
    assert page.status_code == 200 and case.number in html and "受理" in html
    assert case.number not in clerk.get(reverse("workbench:inbox"), {"step": "review"}).content.decode()
    assert case.number in clerk.get(reverse("workbench:inbox"), {"item": world.item.code}).content.decode()
    assert case.number not in clerk.get(reverse("workbench:inbox"), {"item": "nope"}).content.decode()
    # Another department's clerk does not see it.
    assert case.number not in client_for(world.far_clerk).get(reverse("workbench:inbox")).content.decode()


def test_inbox_badges_and_due_state_filters(world):
    case = submitted_case(world)
    act(client_for(world.clerk), case, "accept")
    task = Task.objects.get(case_id=case.pk, state="open")
    approver = client_for(world.approver)
    html = approver.get(reverse("workbench:inbox")).content.decode()
    assert "light-green" in html and case.number in html
    Task.objects.filter(pk=task.pk).update(due_date=dt.date.today() - dt.timedelta(days=7))
    overdue = approver.get(reverse("workbench:inbox"), {"state": "overdue"}).content.decode()
    assert case.number in overdue and "超期" in overdue and "light-red" in overdue
    assert case.number not in approver.get(reverse("workbench:inbox"), {"state": "due_soon"}).content.decode()


def test_inbox_query_count_does_not_grow_with_rows(world, django_assert_max_num_queries, settings):
    # The working-day calendar's version is checked every WORKTIME_RECHECK_SECONDS: on a slow
    # machine one of the two pages below would pay that check and the other not.
    settings.WORKTIME_RECHECK_SECONDS = 3600
    submitted_case(world)
    clerk = client_for(world.clerk)
    clerk.get(reverse("workbench:inbox"))  # warm the calendar cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        clerk.get(reverse("workbench:inbox"))
    for _ in range(5):
        submitted_case(world)
    with CaptureQueriesContext(connection) as six:
        r = clerk.get(reverse("workbench:inbox"))
    assert r.content.decode().count("/workbench/cases/") >= 6
    assert len(six) == len(one) <= 10


def test_inbox_pages_without_a_count(world, settings):
    from yiwang.workbench import selectors

    old = selectors.PER_PAGE
    selectors.PER_PAGE = 2
    try:
        for _ in range(3):
            submitted_case(world)
        clerk = client_for(world.clerk)
        first = clerk.get(reverse("workbench:inbox")).content.decode()
        assert 'rel="next"' in first
        # Keyset paging: the next link carries an opaque cursor, not a page number.
        import re

        link = re.search(r'href="\?([^"]*)" rel="next"', first).group(1).replace("&amp;", "&")
        second = clerk.get(reverse("workbench:inbox") + "?" + link).content.decode()
        assert 'rel="next"' not in second and second.count("/workbench/cases/") == 1
    finally:
        selectors.PER_PAGE = old


def test_another_departments_case_is_404(world):
    case = submitted_case(world)
    other = client_for(world.other_dept_approver)
    assert other.get(reverse("workbench:case", args=[case.pk])).status_code == 404
    assert act(other, case, "accept").status_code == 404
    m = case.materials.first()
    assert other.get(reverse("workbench:material", args=[case.pk, m.pk])).status_code == 404
    case.refresh_from_db()
    assert case.state == CaseState.SUBMITTED


def test_case_page_shows_form_materials_and_serves_them_inline(world):
    case = submitted_case(world)
    clerk = client_for(world.clerk)
    page = clerk.get(reverse("workbench:case", args=[case.pk]))
    html = page.content.decode()
    assert (
        page.status_code == 200 and "开办餐饮店" in html and "营业执照" in html and 'id="act-accept"' in html
    )
    m = case.materials.first()
    r = clerk.get(reverse("workbench:material", args=[case.pk, m.pk]))
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    assert r["Content-Disposition"].startswith("inline") and r["X-Content-Type-Options"] == "nosniff"
    assert r["X-Frame-Options"] == "SAMEORIGIN"
    assert "13805910002" not in html and "138****0002" in html  # the phone is masked for staff
    # What is served is what is stored: the rewritten copy of the upload (cases.sanitize).
    served = b"".join(r.streaming_content)
    with m.file.open("rb") as fh:
        assert served == fh.read() and served.startswith(b"%PDF-") and served != PDF


def test_case_page_query_count_is_bounded(world, django_assert_max_num_queries):
    case = submitted_case(world)
    clerk = client_for(world.clerk)
    clerk.get(reverse("workbench:case", args=[case.pk]))
    with django_assert_max_num_queries(25):
        clerk.get(reverse("workbench:case", args=[case.pk]))


def test_refuse_without_reasons_shows_the_error_next_to_the_field(world):
    case = submitted_case(world)
    r = act(client_for(world.clerk), case, "refuse", reasons="")
    assert r.status_code == 400 and "请填写理由" in r.content.decode()
    case.refresh_from_db()
    assert case.state == CaseState.SUBMITTED


def test_wrong_role_gets_the_actions_chinese_error(world):
    case = submitted_case(world)
    r = act(client_for(world.approver), case, "accept")
    assert r.status_code == 400 and "不能受理" in r.content.decode()


def test_correction_with_checkboxes_then_the_whole_path(world):
    case = submitted_case(world)
    clerk = client_for(world.clerk)
    empty = act(clerk, case, "request_correction")
    assert empty.status_code == 400 and "请列出需要补正" in empty.content.decode()
    r = act(
        clerk,
        case,
        "request_correction",
        cm_1="1",
        cr_1="照片不清晰",
        cf_reason="1",
        cfr_reason="写明经营项目",
    )
    assert r.status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.CORRECTION_REQUESTED
    assert [i.get("material") or i.get("field") for i in case.corrections.get().items] == [
        "营业执照",
        "reason",
    ]
    applicant = client_for(world.applicant)
    url = reverse("portal:my_case", args=[case.number])
    applicant.post(
        url, {"what": "upload", "requirement": "营业执照", "file": SimpleUploadedFile("b.pdf", PDF)}
    )
    assert applicant.post(url, {"what": "correct", "field:reason": "热食类"}).status_code == 302
    assert act(clerk, case, "accept").status_code == 302
    assert act(client_for(world.approver), case, "review", decision="pass").status_code == 302
    head = client_for(world.head)
    bad = act(head, case, "decide", decision="deny", reasons="")
    assert bad.status_code == 400 and "请填写理由" in bad.content.decode()
    assert act(head, case, "decide", decision="approve").status_code == 302
    assert act(clerk, case, "deliver", method="courier", address="福州市鼓楼区五四路 1 号").status_code == 302
    case.refresh_from_db()
    assert case.delivery.tracking_number
    page = clerk.get(reverse("workbench:case", args=[case.pk])).content.decode()
    assert case.delivery.tracking_number in page
    assert act(clerk, case, "courier_status", status="delivered").status_code == 302
    assert act(clerk, case, "close").status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED


def test_transfer_to_a_colleague(world):
    case = submitted_case(world)
    act(client_for(world.clerk), case, "accept")
    approver = client_for(world.approver)
    assert "transfer-to" in approver.get(reverse("workbench:case", args=[case.pk])).content.decode()
    assert act(approver, case, "transfer", to=world.approver2.pk).status_code == 302
    task = Task.objects.get(case_id=case.pk, state="open")
    assert task.assignee == world.approver2
    link = f'href="/workbench/cases/{case.pk}/"'
    assert link not in approver.get(reverse("workbench:inbox")).content.decode()
    assert link in client_for(world.approver2).get(reverse("workbench:inbox")).content.decode()


def test_counter_entry_for_a_person_at_the_hall(world, django_capture_on_commit_callbacks):
    from yiwang.identity.services import id_number_of

    clerk = client_for(world.clerk)
    missing = clerk.post(
        reverse("workbench:counter"), {"id_number": "110101199003070000", "item": world.item.code}
    )
    assert missing.status_code == 400 and "没有找到该身份证号" in missing.content.decode()
    r = clerk.post(
        reverse("workbench:counter"),
        {"id_number": id_number_of(world.person), "item": world.item.code, "idempotency_key": "c1"},
    )
    assert r.status_code == 302
    app_id = int(r["Location"].rstrip("/").split("/")[-2])
    form_url = reverse("workbench:counter_form", args=[app_id])
    assert r["Location"] == form_url
    data = {"applicant_name": world.person.name, "phone": "13800138000", "reason": "窗口申请", "go": "next"}
    assert clerk.post(form_url, data)["Location"] == reverse("workbench:counter_materials", args=[app_id])
    murl = reverse("workbench:counter_materials", args=[app_id])
    for name in ("食品经营许可申请书", "营业执照"):
        assert (
            clerk.post(murl, {"requirement": name, "file": SimpleUploadedFile("x.pdf", PDF)}).status_code
            == 302
        )
    durl = reverse("workbench:counter_delivery", args=[app_id])
    assert clerk.post(durl, {"delivery_method": "counter"}).status_code == 302
    rurl = reverse("workbench:counter_review", args=[app_id])
    from yiwang.cases.models import Application

    key = Application.objects.get(pk=app_id).idempotency_key
    with django_capture_on_commit_callbacks(execute=True):
        r1 = clerk.post(rurl, {"idempotency_key": key})
        r2 = clerk.post(rurl, {"idempotency_key": key})
    case = Case.objects.get(application_id=app_id)
    assert r1["Location"] == r2["Location"] == reverse("workbench:case", args=[case.pk])
    assert case.channel == "counter" and case.applicant == world.applicant and case.entered_by == world.clerk
    # The person sees it among their cases; another clerk's draft is not the outsider's business.
    assert case.number in client_for(world.applicant).get(reverse("portal:my_cases")).content.decode()
    assert client_for(world.approver).get(form_url).status_code == 404


def test_split_inbox_matches_the_workflow_inbox(world):
    """The workbench's per-scope queries return what ``workflow.selectors.inbox`` returns, in
    the same order (due date first, no due date last)."""
    from yiwang.identity.models import Role, StaffRole
    from yiwang.workbench import selectors
    from yiwang.workflow import selectors as wf

    cases = [submitted_case(world) for _ in range(4)]
    clerk = client_for(world.clerk)
    for c in cases[:3]:
        act(clerk, c, "accept")
    Task.objects.filter(case_id=cases[0].pk, state="open").update(due_date=dt.date(2026, 1, 5))
    act(client_for(world.approver), cases[1], "transfer", to=world.approver2.pk)
    # approver2 also holds a region-wide clerk role: three scopes, overlapping.
    StaffRole.objects.create(user=world.approver2, role=Role.COUNTER_CLERK, region=world.regions["county"])
    for user in (world.clerk, world.approver, world.approver2, world.far_clerk):
        expected = list(wf.inbox(user).values_list("pk", flat=True))
        got = [r.task.pk for r in selectors.inbox_page(user).rows]
        assert sorted(got) == sorted(expected), user
        due = [r.task.due_date for r in selectors.inbox_page(user).rows]
        dated = [d for d in due if d is not None]
        assert dated == sorted(dated) and due[: len(dated)] == dated


def test_suspend_resume_and_inspection_through_the_page(world):
    case = submitted_case(world)
    act(client_for(world.clerk), case, "accept")
    approver = client_for(world.approver)
    no_reason = act(approver, case, "suspend", reasons="")
    assert no_reason.status_code == 400 and "请填写理由" in no_reason.content.decode()
    assert act(approver, case, "suspend", reasons="等待司法鉴定结果").status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.SUSPENDED
    page = approver.get(reverse("workbench:case", args=[case.pk])).content.decode()
    assert "恢复办理" in page and "暂停计时" in page
    assert act(approver, case, "resume").status_code == 302
    assert act(approver, case, "review", decision="inspection", note="现场核查").status_code == 302
    assert "完成核查" in approver.get(reverse("workbench:case", args=[case.pk])).content.decode()
    assert act(approver, case, "inspection_done", note="符合").status_code == 302
    case.refresh_from_db()
    assert [p.kind for p in case.pauses.all()] == ["suspension", "inspection"]


def test_marking_a_material_faulty_prefills_the_correction(world):
    case = submitted_case(world)
    clerk = client_for(world.clerk)
    licence = case.materials.get(requirement="营业执照")
    bad = act(clerk, case, "mark_material", material=licence.pk, status="faulty", note="")
    assert bad.status_code == 400 and "请写明材料的问题" in bad.content.decode()
    assert (
        act(clerk, case, "mark_material", material=licence.pk, status="faulty", note="已过期").status_code
        == 302
    )
    page = clerk.get(reverse("workbench:case", args=[case.pk])).content.decode()
    assert 'name="cm_1" value="1" checked' in page and 'name="cr_1" value="已过期"' in page


def test_a_supervisor_on_the_inbox_is_shown_their_own_pages(world):
    """The inbox is not a supervisor's; the refusal lists the pages that are, so the person who
    lands on /workbench/ is not left at a dead end."""
    from django.urls import reverse

    from tests.cases.conftest import staff
    from tests.workbench.helpers import client_for
    from yiwang.identity.models import Role

    sup = staff("sup_landing", Role.SUPERVISOR, region=world.regions["county"])
    r = client_for(sup).get(reverse("workbench:inbox"))
    html = r.content.decode()
    assert r.status_code == 403 and "无权访问此页面" in html
    for name in ("warnings", "orders", "figures", "rating_ranking"):
        assert f'href="{reverse("workbench:" + name)}"' in html
    # Someone with no working role sees the message and no list.
    nobody = staff("no_role", Role.CATALOGUE_ADMIN, region=world.regions["county"])
    html = client_for(nobody).get(reverse("workbench:inbox")).content.decode()
    assert "无权访问此页面" in html and 'id="my-pages"' not in html
