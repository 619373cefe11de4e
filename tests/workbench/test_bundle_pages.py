"""Workbench pages for bundles (Django test client, real database): the lead department's umbrella
page with every branch, a branch page with its bundle context and only its own fields and
materials, the branch correction merged into the umbrella, the branch decision documents seen
from the umbrella, the unified decision, and the supervisors' list (held-up first)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.portal.bundle_world import BundleWorld, build_bundle_world
from tests.portal.test_bundle_pages import fill_and_submit, start
from tests.workbench.helpers import client_for
from yiwang.bundles.models import BundleBranch
from yiwang.cases.models import Case


@pytest.fixture
def w(db, settings) -> BundleWorld:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return build_bundle_world()


def accepted_bundle_case(w: BundleWorld, signage: str = "yes") -> Case:
    client = client_for(w.applicant)
    case = fill_and_submit(client, start(client, w, entity_type="individual", signage=signage))
    r = client_for(w.clerk).post(reverse("workbench:act", args=[case.pk, "accept"]))
    assert r.status_code == 302, r.content.decode()[:2000]
    case.refresh_from_db()
    return case


def branch(case: Case, department) -> Case:
    return BundleBranch.objects.get(umbrella=case, department=department).branch


def test_lead_department_sees_every_branch_on_the_umbrella(w):
    case = accepted_bundle_case(w)
    page = client_for(w.clerk).get(reverse("workbench:case", args=[case.pk])).content.decode()
    assert 'id="bundle-panel"' in page and "一件事：我要开餐馆" in page
    table = page.split('id="branches"')[1].split("</table>")[0]
    assert table.count("<tr class=") == 3
    assert "鼓楼区住房和城乡建设局" in table and "城市户外广告和招牌设施设置审批" in table
    assert "个体工商户设立登记" in table and "食品经营许可（新办）" in table
    for b in BundleBranch.objects.filter(umbrella=case):
        assert b.due_date is not None and b.due_date.isoformat() in table
    # The branch holding the bundle up is named (the latest due date).
    assert 'id="holding-up"' in page and "holding-up" in table


def test_branch_staff_see_only_their_branch_fields_and_materials(w):
    case = accepted_bundle_case(w)
    sign = branch(case, w.housing)
    food = next(
        b.branch
        for b in BundleBranch.objects.filter(umbrella=case, department=w.market)
        if "食品" in b.branch.item_name
    )
    housing = client_for(w.housing_approver)
    page = housing.get(reverse("workbench:case", args=[sign.pk])).content.decode()
    # Bundle context: the bundle, the umbrella number, the lead department.
    assert "一件事分支：我要开餐馆" in page and case.number in page and "鼓楼区市场监督管理局" in page
    assert "招牌文字内容" in page and "闽味小馆" in page
    assert "经营项目" not in page and "热食类食品制售" not in page  # the food licence's field
    assert "招牌设置效果图" in page
    assert "食品安全管理人员及专业技术人员名单" not in page and "餐饮服务场所平面布局图" not in page
    # Neither the umbrella nor another department's branch is reachable.
    assert housing.get(reverse("workbench:case", args=[case.pk])).status_code == 404
    assert housing.get(reverse("workbench:case", args=[food.pk])).status_code == 404
    material = food.materials.first()
    assert housing.get(reverse("workbench:material", args=[food.pk, material.pk])).status_code == 404
    # A department with no branch sees nothing of the bundle.
    police = client_for(w.police_approver)
    for c in (case, sign, food):
        assert police.get(reverse("workbench:case", args=[c.pk])).status_code == 404
    # The branch is in the branch department's ordinary inbox.
    inbox = housing.get(reverse("workbench:inbox")).content.decode()
    assert sign.number in inbox and case.number not in inbox


def test_branch_correction_from_the_workbench_joins_the_combined_request(w):
    case = accepted_bundle_case(w)
    sign = branch(case, w.housing)
    housing = client_for(w.housing_approver)
    page = housing.get(reverse("workbench:case", args=[sign.pk])).content.decode()
    assert 'id="form-branch-correction"' in page
    materials = sign.item_version.elements["materials"]
    i = next(n for n, m in enumerate(materials) if m["name"] == "招牌设置效果图")
    url = reverse("workbench:bundle_branch_correction", args=[sign.pk])
    # A ticked item without a reason is refused with the action's message.
    bad = housing.post(url, {f"bm_{i}": "1"})
    assert bad.status_code == 400 and "field-error" in bad.content.decode()
    r = housing.post(
        url,
        {f"bm_{i}": "1", f"br_{i}": "未标明招牌尺寸", "bf_sign_size": "1", "bfr_sign_size": "请写明长和高"},
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    case.refresh_from_db()
    sign.refresh_from_db()
    assert case.state == "correction_requested" and sign.state == "correction_requested"
    request = case.corrections.filter(resolved_at__isnull=True).get()
    assert {i.get("material") or i.get("field") for i in request.items} >= {"招牌设置效果图", "sign_size"}
    # Another department cannot ask on this branch.
    other = client_for(w.approver)
    assert other.post(url, {f"bm_{i}": "1", f"br_{i}": "x"}).status_code == 404


def _work_branch(w: BundleWorld, c: Case, approver, head) -> None:
    a = client_for(approver)
    r = a.post(reverse("workbench:act", args=[c.pk, "review"]), {"decision": "pass"})
    assert r.status_code == 302, r.content.decode()[:1500]
    r = client_for(head).post(reverse("workbench:act", args=[c.pk, "decide"]), {"decision": "approve"})
    assert r.status_code == 302, r.content.decode()[:1500]


def test_unified_decision_and_branch_documents_on_the_umbrella(w, django_capture_on_commit_callbacks):
    case = accepted_bundle_case(w)
    with django_capture_on_commit_callbacks(execute=True):
        for b in BundleBranch.objects.filter(umbrella=case).select_related("branch"):
            if b.department_id == w.housing.pk:
                _work_branch(w, b.branch, w.housing_approver, w.housing_head)
            else:
                _work_branch(w, b.branch, w.approver, w.head)
    head = client_for(w.head)
    page = head.get(reverse("workbench:case", args=[case.pk])).content.decode()
    assert 'id="bundle-outcome"' in page and "应当作出" in page and 'id="bundle-decide"' in page
    # Each branch's decision document, opened from the umbrella by the lead department.
    sign = branch(case, w.housing)
    # The decision notice is a job after the commit; make sure it exists whatever runs the jobs.
    from yiwang.cases import notices

    notice = sign.notices.filter(kind="decision").first() or notices.issue(sign, "decision")
    page = head.get(reverse("workbench:case", args=[case.pk])).content.decode()
    url = reverse("workbench:bundle_branch_notice", args=[case.pk, sign.pk, notice.pk])
    assert url in page
    r = head.get(url)
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    # Not for someone outside the lead department, nor through another umbrella's id.
    assert client_for(w.police_approver).get(url).status_code == 404
    assert (
        head.get(reverse("workbench:bundle_branch_notice", args=[case.pk, sign.pk, 999999])).status_code
        == 404
    )
    # The clerk may not decide; the head decides once for all.
    assert client_for(w.clerk).post(reverse("workbench:bundle_decide", args=[case.pk])).status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        r = head.post(reverse("workbench:bundle_decide", args=[case.pk]), {"reasons": ""})
    assert r.status_code == 302, r.content.decode()[:2000]
    case.refresh_from_db()
    assert case.state == "approved" and case.outcome == "approved"


def test_supervisor_list_names_the_branch_holding_each_bundle_up(w):
    case = accepted_bundle_case(w)
    sup = client_for(w.supervisor)
    r = sup.get(reverse("workbench:bundles"))
    assert r.status_code == 200
    page = r.content.decode()
    assert case.number in page and "我要开餐馆" in page
    # an applicant is not staff
    assert client_for(w.applicant).get(reverse("workbench:bundles")).status_code == 403
    assert Client().get(reverse("workbench:bundles")).status_code == 302


def test_umbrella_page_queries_are_bounded(w):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    two = accepted_bundle_case(w, signage="no")
    three = accepted_bundle_case(w, signage="yes")
    assert BundleBranch.objects.filter(umbrella=two).count() == 2
    assert BundleBranch.objects.filter(umbrella=three).count() == 3
    clerk = client_for(w.clerk)
    counts = []
    for case in (two, three):
        url = reverse("workbench:case", args=[case.pk])
        clerk.get(url)  # warm the per-process calendar cache
        with CaptureQueriesContext(connection) as q:
            assert clerk.get(url).status_code == 200
        counts.append(len(q))
    # The bundle panel reads every branch in a fixed number of queries; the case page's own loop
    # over the open tasks checks each of the umbrella's wait tasks (one per branch) with
    # may_work: two queries a branch, outside the panel.
    assert counts[1] - counts[0] <= 2 and counts[1] <= 40, counts


def test_supervisor_list_puts_the_overdue_bundle_first(w):
    import datetime as dt

    first = accepted_bundle_case(w, signage="no")
    late = accepted_bundle_case(w, signage="yes")
    # The signage branch of the second bundle was accepted long ago: it is overdue now.
    sign = branch(late, w.housing)
    Case.objects.filter(pk=sign.pk).update(accepted_on=sign.accepted_on - dt.timedelta(days=60))
    page = client_for(w.supervisor).get(reverse("workbench:bundles")).content.decode()
    table = page.split('id="held-up"')[1]
    assert table.index(late.number) < table.index(first.number)
    row = table.split(late.number)[1].split("</tr>")[0]
    assert "鼓楼区住房和城乡建设局" in row and "超期" in row


def test_counter_entry_of_a_bundle_goes_through_its_questionnaire(w):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.portal.bundle_world import PDF
    from tests.portal.test_bundle_pages import RESTAURANT_DATA
    from yiwang.bundles import page_selectors
    from yiwang.identity.synthetic import demo_people

    clerk = client_for(w.clerk)
    id_number = demo_people()[1].id_number
    # The bundle's item code at the ordinary counter entry: the questionnaire, not a plain draft.
    r = clerk.post(reverse("workbench:counter"), {"id_number": id_number, "item": w.bundle.item.code})
    assert r.status_code == 200 and 'id="counter-questionnaire"' in r.content.decode()
    url = reverse("workbench:bundle_counter_start", args=[w.bundle.code])
    missing = clerk.post(url, {"id_number": id_number, "entity_type": "individual"})
    assert missing.status_code == 400 and "请选择一项。" in missing.content.decode()
    nobody = clerk.post(
        url, {"id_number": "110101190001010000", "entity_type": "individual", "signage": "no"}
    )
    assert nobody.status_code == 400 and "没有找到该身份证号的注册用户" in nobody.content.decode()
    r = clerk.post(
        url, {"id_number": id_number, "entity_type": "individual", "signage": "no", "idempotency_key": "c1"}
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    app_id = int(r["Location"].split("/")[-3])
    page = clerk.get(r["Location"]).content.decode()
    assert "窗口代录" in page and 'name="sign_text"' not in page
    data = {k: v for k, v in RESTAURANT_DATA.items() if f'name="{k}"' in page}
    assert clerk.post(r["Location"], {**data, "go": "next"}).status_code == 302
    from yiwang.cases.models import Application

    app = Application.objects.get(pk=app_id)
    materials = reverse("workbench:bundle_counter_materials", args=[app_id])
    for row in page_selectors.draft_materials(app):
        if row.required:
            up = clerk.post(materials, {"requirement": row.name, "file": SimpleUploadedFile("m.pdf", PDF)})
            assert up.status_code == 302
    assert clerk.post(materials, {"go": "next"}).status_code == 302
    delivery = reverse("workbench:bundle_counter_delivery", args=[app_id])
    assert clerk.post(delivery, {"delivery_method": "counter"}).status_code == 302
    app.refresh_from_db()
    r = clerk.post(
        reverse("workbench:bundle_counter_review", args=[app_id]), {"idempotency_key": app.idempotency_key}
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    case = Case.objects.get(application_id=app_id)
    assert r["Location"] == reverse("workbench:case", args=[case.pk])
    assert (
        case.channel == "counter" and case.applicant_id == w.applicant.pk and case.item_id == w.bundle.item_id
    )
    # The person follows it in "my cases"; another clerk cannot continue someone else's entry.
    assert case.number in client_for(w.applicant).get(reverse("portal:my_cases")).content.decode()
    assert (
        client_for(w.approver).get(reverse("workbench:bundle_counter_form", args=[app_id])).status_code == 404
    )
