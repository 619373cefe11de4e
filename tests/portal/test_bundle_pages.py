"""The applicant's bundle pages (Django test client, real database): the guide, the 智能导办
questionnaire without JavaScript, the combined form built from the applicable members only, the
materials checklist with shared materials once, submission, my case with every department's
progress and the one combined correction, and the public lookup with the branches."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from tests.portal.bundle_world import PDF, BundleWorld, build_bundle_world
from tests.workbench.helpers import client_for
from yiwang.bundles import page_selectors
from yiwang.bundles.models import BundleApplication, BundleBranch
from yiwang.cases.models import Case


@pytest.fixture
def w(db, settings) -> BundleWorld:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return build_bundle_world()


RESTAURANT_DATA = {
    "operator_name": "林晓峰",
    "id_number": "350102199001011234",
    "phone": "13800138000",
    "shop_name": "闽味小馆",
    "address": "福州市鼓楼区五四路 100 号",
    "business_scope": "餐饮服务",
    "capital": "10",
    "registered_capital": "50",
    "staff_count": "4",
    "business_form": "餐饮服务经营者（小型餐馆）",
    "food_items": "热食类食品制售",
    "area": "80",
    "food_safety_manager": "林晓峰",
    "sign_text": "闽味小馆",
    "sign_size": "6×1.2",
}


def start(client: Client, w: BundleWorld, **answers: str) -> BundleApplication:
    url = reverse("portal:bundle_start", args=[w.bundle.code])
    r = client.post(
        url, {**answers, "acting_for": "self", "idempotency_key": "k" + "".join(answers.values())}
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    app_id = int(r["Location"].split("/")[-3])
    return BundleApplication.objects.get(application_id=app_id)


def fill_and_submit(client: Client, link: BundleApplication) -> Case:
    app = link.application
    form_url = reverse("portal:bundle_form", args=[app.pk])
    page = client.get(form_url).content.decode()
    data = {k: v for k, v in RESTAURANT_DATA.items() if f'name="{k}"' in page}
    r = client.post(form_url, {**data, "go": "next"})
    assert r.status_code == 302, r.content.decode()[:3000]
    url = reverse("portal:bundle_materials", args=[app.pk])
    for row in page_selectors.draft_materials(app):
        if row.required:
            r = client.post(
                url, {"requirement": row.name, "file": SimpleUploadedFile(f"{row.name[:8]}.pdf", PDF)}
            )
            assert r.status_code == 302, r.content.decode()[:2000]
    assert client.post(url, {"go": "next"}).status_code == 302
    r = client.post(reverse("portal:bundle_delivery", args=[app.pk]), {"delivery_method": "electronic"})
    assert r.status_code == 302
    app.refresh_from_db()
    r = client.post(reverse("portal:bundle_review", args=[app.pk]), {"idempotency_key": app.idempotency_key})
    assert r.status_code == 302, r.content.decode()[:3000]
    return Case.objects.get(application=app)


def test_guide_shows_members_lead_limit_and_shared_materials_once(w):
    r = Client().get(reverse("portal:bundle_guide", args=[w.bundle.code]))
    assert r.status_code == 200
    page = r.content.decode()
    assert "我要开餐馆" in page and "鼓楼区市场监督管理局" in page and "鼓楼区住房和城乡建设局" in page
    assert f"{w.bundle.overall_limit_days} 个工作日" in page
    # The premises proof is needed by every member: listed once, marked shared.
    assert page.count("经营场所使用证明（产权证明或租赁合同）") == 1
    assert "多部门共用" in page
    # Conditions in words, from the questionnaire
    assert "是否设置户外招牌：设置户外招牌" in page
    assert Client().get(reverse("portal:bundle_guide", args=["nope-1"])).status_code == 404
    reader = Client()
    reader.get(reverse("portal:bundle_list"), {"region": w.regions["city"].code})
    listing = reader.get(reverse("portal:bundle_list")).content.decode()
    assert w.bundle.name in listing


def test_guide_and_list_in_traditional_chinese_and_english(w):
    from django.conf import settings

    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hant"
    page = client.get(reverse("portal:bundle_guide", args=[w.bundle.code])).content.decode()
    assert "我要開餐館" in page and "鼓樓區市場監督管理局" in page and "鼓樓區住房和城鄉建設局" in page
    assert "經營場所使用證明（產權證明或租賃合同）" in page
    assert "我要开餐馆" not in page and "鼓楼区市场监督管理局" not in page
    assert "我要開餐館" in client.get(reverse("portal:bundle_list")).content.decode()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get(reverse("portal:bundle_guide", args=[w.bundle.code])).content.decode()
    days = w.bundle.overall_limit_days
    assert f"{days} working days (from the date of unified acceptance)" in page
    assert "我要开餐馆" in page  # data stays as published


def test_questionnaire_works_without_javascript(w):
    url = reverse("portal:bundle_start", args=[w.bundle.code])
    page = Client().get(url).content.decode()
    assert 'method="get"' in page and "是否设置户外招牌？" in page and 'id="result"' not in page
    # Half answered: the missing question is pointed at, nothing is computed yet.
    half = Client().get(url, {"entity_type": "individual"}).content.decode()
    assert "请选择一项。" in half and 'id="result"' not in half
    # A value that is not among the choices counts as unanswered.
    assert "请选择一项。" in Client().get(url, {"entity_type": "x", "signage": "no"}).content.decode()
    page = Client().get(url, {"entity_type": "individual", "signage": "no"}).content.decode()
    result = page.split('id="result"')[1]
    applies, skipped = result.split("无需办理")
    assert "个体工商户设立登记" in applies and "食品经营许可（新办）" in applies
    assert "城市户外广告和招牌设施设置审批" in skipped and "有限责任公司设立登记" in skipped
    assert "城市户外广告和招牌设施设置审批" not in applies
    # Anonymous readers are asked to log in before starting.
    assert "登录后开始办理" in page
    r = Client().post(url, {"entity_type": "individual", "signage": "no"})
    assert r.status_code == 302 and "/auth/login/" in r["Location"]


def test_combined_form_and_materials_from_the_applicable_members_only(w):
    client = client_for(w.applicant)
    link = start(client, w, entity_type="individual", signage="no")
    applicable = {m.item.current_version.name for m in w.bundle.members.filter(pk__in=link.member_ids)}
    assert applicable == {"个体工商户设立登记", "食品经营许可（新办）"}
    page = client.get(reverse("portal:bundle_form", args=[link.application_id])).content.decode()
    assert 'name="staff_count"' in page and 'name="food_items"' in page
    # The signage and company fields are not asked: those members do not apply.
    assert 'name="sign_text"' not in page and 'name="registered_capital"' not in page
    # A field several members need is asked once.
    assert page.count('name="shop_name"') == 1 and page.count('name="address"') == 1
    page = client.get(reverse("portal:bundle_materials", args=[link.application_id])).content.decode()
    assert page.count('data-name="经营场所使用证明（产权证明或租赁合同）"') == 1
    assert "招牌设置效果图" not in page and "公司章程" not in page
    # Uploading a material outside this application's list is refused next to the list.
    r = client.post(
        reverse("portal:bundle_materials", args=[link.application_id]),
        {"requirement": "招牌设置效果图", "file": SimpleUploadedFile("a.pdf", PDF)},
    )
    assert r.status_code == 400 and "不在本次申请的材料清单内" in r.content.decode()
    # Someone else's draft is not found.
    other = client_for(w.clerk)
    assert other.get(reverse("portal:bundle_form", args=[link.application_id])).status_code == 404


def test_submit_then_my_case_shows_each_department_and_lookup_shows_branches(w):
    from yiwang.cases import actions

    client = client_for(w.applicant)
    link = start(client, w, entity_type="individual", signage="yes")
    case = fill_and_submit(client, link)
    assert case.item_id == w.bundle.item_id
    # The ordinary "apply" entry for the bundle's item sends the reader to the questionnaire.
    r = client.get(reverse("portal:apply", args=[w.bundle.item.code]))
    assert r.status_code == 302 and r["Location"].endswith(f"/bundles/{w.bundle.code}/start/")
    actions.Accept(case, w.clerk).run()
    assert BundleBranch.objects.filter(umbrella=case).count() == 3
    page = client.get(reverse("portal:my_case", args=[case.number])).content.decode()
    assert "各部门办理进度" in page
    # My cases lists the bundle once; a branch's number leads to the umbrella's page.
    listing = client.get(reverse("portal:my_cases")).content.decode()
    assert listing.count("case-row") == 1 and case.number in listing
    branch_case = BundleBranch.objects.filter(umbrella=case).first().branch
    assert branch_case.number not in listing
    r = client.get(reverse("portal:my_case", args=[branch_case.number]))
    assert r.status_code == 302 and r["Location"] == reverse("portal:my_case", args=[case.number])
    assert "鼓楼区住房和城乡建设局" in page and "鼓楼区市场监督管理局" in page
    # The public lookup shows the departments and states, nothing of the application.
    r = Client().get(reverse("portal:case_lookup"), {"number": case.number, "code": case.check_code})
    page = r.content.decode()
    assert r.status_code == 200 and 'id="lookup-branches"' in page and "鼓楼区住房和城乡建设局" in page
    assert "闽味小馆" not in page and "13800138000" not in page
    # An ordinary case's lookup and my-case page are untouched.
    assert "lookup-branches" not in Client().get(reverse("portal:case_lookup")).content.decode()


def test_one_combined_correction_answered_once(w):
    from yiwang.bundles.actions import BranchRequestCorrection
    from yiwang.cases import actions

    client = client_for(w.applicant)
    case = fill_and_submit(client, start(client, w, entity_type="individual", signage="yes"))
    actions.Accept(case, w.clerk).run()
    sign = BundleBranch.objects.get(umbrella=case, department=w.housing).branch
    BranchRequestCorrection(
        sign, w.housing_approver, items=[{"material": "招牌设置效果图", "reason": "未标明招牌尺寸"}]
    ).run()
    case.refresh_from_db()
    assert case.state == "correction_requested"
    url = reverse("portal:my_case", args=[case.number])
    page = client.get(url).content.decode()
    assert "需要补正的内容" in page and "未标明招牌尺寸" in page and "招牌设置效果图" in page
    r = client.post(
        url,
        {"what": "upload", "requirement": "招牌设置效果图", "file": SimpleUploadedFile("效果图.pdf", PDF)},
    )
    assert r.status_code == 302
    r = client.post(url, {"what": "correct"})
    assert r.status_code == 302, r.content.decode()[:2000]
    case.refresh_from_db()
    sign.refresh_from_db()
    assert case.state != "correction_requested" and sign.state != "correction_requested"
    assert "需要补正的内容" not in client.get(url).content.decode()


@pytest.mark.parametrize("page", ["list", "guide", "start", "result", "form", "materials", "my_case"])
def test_bundle_pages_accessibility_basics(w, page):
    from tests.portal.test_pages import FormControls

    client = client_for(w.applicant)
    code = w.bundle.code
    answers = {"entity_type": "company", "signage": "yes"}
    if page in ("form", "materials", "my_case"):
        link = start(client, w, **answers)
        if page == "my_case":
            from yiwang.cases import actions

            case = fill_and_submit(client, link)
            actions.Accept(case, w.clerk).run()
            url = reverse("portal:my_case", args=[case.number])
        else:
            url = reverse(f"portal:bundle_{page}", args=[link.application_id])
    else:
        url = {
            "list": reverse("portal:bundle_list"),
            "guide": reverse("portal:bundle_guide", args=[code]),
            "start": reverse("portal:bundle_start", args=[code]),
            "result": reverse("portal:bundle_start", args=[code]) + "?entity_type=company&signage=yes",
        }[page]
    r = client.get(url)
    assert r.status_code == 200
    html = r.content.decode()
    parser = FormControls()
    parser.feed(html)
    for control in parser.controls:
        assert control.get("id") in parser.label_for or control.get("aria-label"), control
    assert len(parser.ids) == len(set(parser.ids)), "duplicate ids"
    assert {"main", "nav", "header", "footer"} <= set(parser.landmarks)
    assert '<meta name="viewport"' in html and html.count("<h1") == 1


def test_each_departments_decision_document_once_results_are_delivered(w):
    from yiwang.bundles import services as bundle_services
    from yiwang.cases import actions, notices

    client = client_for(w.applicant)
    case = fill_and_submit(client, start(client, w, entity_type="individual", signage="yes"))
    actions.Accept(case, w.clerk).run()
    for b in BundleBranch.objects.filter(umbrella=case).select_related("branch"):
        approver, head = (
            (w.housing_approver, w.housing_head) if b.department_id == w.housing.pk else (w.approver, w.head)
        )
        c = actions.Review(b.branch, approver, decision="pass").run()
        c = actions.Decide(c, head, decision="approve").run()
        if not c.notices.filter(kind="decision").exists():  # the notice job runs after the commit
            notices.issue(c, "decision")
    case.refresh_from_db()
    case = bundle_services.decide_bundle(case, actor=w.head)
    sign = BundleBranch.objects.get(umbrella=case, department=w.housing).branch
    notice = sign.notices.get(kind="decision")
    url = reverse("portal:my_branch_notice", args=[case.number, sign.pk, notice.pk])
    # Decided, not yet delivered: the results go out together, not one by one.
    assert client.get(url).status_code == 404
    assert "branch-decision" not in client.get(reverse("portal:my_case", args=[case.number])).content.decode()
    actions.Deliver(case, w.clerk, method="electronic").run()
    page = client.get(reverse("portal:my_case", args=[case.number])).content.decode()
    assert page.count('data-kind="branch-decision"') == 3 and url in page
    r = client.get(url)
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    # Only for those who may see the bundle case (not another department, not another person),
    # and only a notice of one of its branches.
    from django.contrib.auth import get_user_model

    stranger = get_user_model().objects.create_user(username="stranger", password="x")
    assert client_for(stranger).get(url).status_code == 404
    assert client_for(w.police_approver).get(url).status_code == 404
    other = reverse("portal:my_branch_notice", args=[case.number, sign.pk, notice.pk + 999])
    assert client.get(other).status_code == 404
