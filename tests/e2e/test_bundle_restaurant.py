"""我要开餐馆 in headless Chromium: the 智能导办 questionnaire (no signage → the signage permit does
not apply), the combined form and the shared materials, one submission, unified acceptance into
two branches worked from the market-regulation inbox, one branch's correction request answered
once by the applicant, both branches decided, the unified decision, and one delivery of every
result."""

from __future__ import annotations

import os
import tempfile

import pytest

from tests.e2e.conftest import SCREENSHOT_DIR, browser, page_replaced  # noqa: F401
from tests.portal.bundle_world import PASSWORD, build_bundle_world
from tests.portal.test_bundle_pages import RESTAURANT_DATA

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _real_pdf(text: str) -> str:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=14)
    pdf.cell(text=text)
    path = os.path.join(tempfile.mkdtemp(prefix="yiwang-e2e-"), "material.pdf")
    with open(path, "wb") as fh:
        fh.write(bytes(pdf.output()))
    return path


def test_restaurant_bundle_from_questionnaire_to_combined_delivery(live_server, browser, settings):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select, WebDriverWait

    from tests.e2e.conftest import PAGE_SWAP_ERRORS
    from yiwang.bundles.models import BundleBranch
    from yiwang.cases.models import Case

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    w = build_bundle_world()
    d = browser
    wait = WebDriverWait(
        d, 30, ignored_exceptions=PAGE_SWAP_ERRORS
    )  # the machine is shared: pages can take seconds under load
    base = live_server.url
    pdf_path = _real_pdf("Restaurant bundle material")

    def el(css: str):
        return wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, css)))

    before = {}

    def click(css: str) -> None:
        button = el(css)
        d.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
        before["page"] = d.find_element(By.TAG_NAME, "html")
        button.click()

    def shot(name: str) -> None:
        d.save_screenshot(os.path.join(SCREENSHOT_DIR, f"yiwang-bundle-{name}.png"))

    def login(username: str, next_url: str) -> None:
        d.delete_all_cookies()
        d.get(f"{base}/auth/login/?next={next_url}")
        el("#id_login").send_keys(username)
        d.find_element(By.ID, "id_password").send_keys(PASSWORD)
        d.find_element(By.CSS_SELECTOR, "#login-form [type=submit]").click()
        wait.until(lambda drv: "/auth/login/" not in drv.current_url)

    def flash() -> None:
        # Every form here posts and redirects: wait for the page the click left (it may carry the
        # previous step's message), then for the new page's message.
        wait.until(page_replaced(before["page"]))
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".flash-success")))

    d.set_window_size(390, 844)
    # 1. The guide, then the questionnaire: an individual business, no outdoor sign.
    d.get(f"{base}/bundles/{w.bundle.code}/")
    assert "鼓楼区市场监督管理局" in el("#lead-department").text
    click("#start-bundle")
    click("input[name=entity_type][value=individual]")
    click("input[name=signage][value=no]")
    click("#see-items")
    applies = el(".bundle-applies").text
    skipped = el(".bundle-skipped").text
    assert "食品经营许可（新办）" in applies and "个体工商户设立登记" in applies
    assert "城市户外广告和招牌设施设置审批" in skipped and "城市户外广告和招牌设施设置审批" not in applies
    shot("questionnaire-phone")
    # 2. Log in; back on the result with the answers kept; start the combined application.
    d.find_element(By.PARTIAL_LINK_TEXT, "登录后开始办理").click()
    el("#id_login").send_keys("applicant")
    d.find_element(By.ID, "id_password").send_keys(PASSWORD)
    d.find_element(By.CSS_SELECTOR, "#login-form [type=submit]").click()
    click("#start-application")
    # 3. The combined form: no signage fields; fields of both items asked once.
    el("#schema-form")
    assert not d.find_elements(By.NAME, "sign_text")
    assert len(d.find_elements(By.NAME, "shop_name")) == 1
    for key, value in RESTAURANT_DATA.items():
        found = d.find_elements(By.NAME, key)
        if not found:
            continue
        field = found[0]
        if field.tag_name == "select":
            Select(field).select_by_value(value)
        else:
            field.clear()
            field.send_keys(value)
    shot("form-phone")
    click("button[value=next]")
    # 4. Materials: each once; the premises proof is shared by both departments.
    el("#bundle-checklist")
    shared = d.find_element(By.CSS_SELECTOR, 'li[data-name="经营场所使用证明（产权证明或租赁合同）"]')
    assert "多部门共用" in shared.text
    assert not d.find_elements(By.CSS_SELECTOR, 'li[data-name="招牌设置效果图"]')
    count = len(d.find_elements(By.CSS_SELECTOR, "#bundle-checklist li.material"))
    for i in range(count):
        row = el(f"#m{i}")
        if "必交" not in row.find_element(By.CSS_SELECTOR, ".material-head").text:
            continue
        el(f"#file{i}").send_keys(pdf_path)
        click(f"#m{i} .upload-form button")
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, f"#m{i}.ok")))
    shot("materials-phone")
    click("#materials-next")
    click("input[name=delivery_method][value=electronic]")
    click(".apply-form .btn-primary")
    click("#submit-application")
    number = el("#case-number").text
    case = Case.objects.get(number=number)
    assert case.item_id == w.bundle.item_id

    # 5. Unified acceptance at the lead department: two branches, the signage one not among them.
    d.set_window_size(1280, 900)
    login("clerk", f"/workbench/cases/{case.pk}/")
    click("#act-accept")
    flash()
    branches = list(BundleBranch.objects.filter(umbrella=case).select_related("branch"))
    assert len(branches) == 2 and {b.department_id for b in branches} == {w.market.pk}
    food = next(b.branch for b in branches if "食品" in b.branch.item_name)
    licence = next(b.branch for b in branches if b.branch.pk != food.pk)
    assert len(el("#branches").find_elements(By.CSS_SELECTOR, "tbody tr")) == 2
    shot("umbrella-desktop")

    # 6. The approver finds the food branch in the ordinary inbox and asks for a correction.
    login("approver", "/workbench/")
    d.find_element(By.PARTIAL_LINK_TEXT, food.number).click()
    assert "一件事分支：我要开餐馆" in el("#bundle-panel").text
    d.find_element(By.XPATH, "//summary[contains(., '申请补正')]").click()
    materials = food.item_version.elements["materials"]
    i = next(n for n, m in enumerate(materials) if m["name"] == "餐饮服务场所平面布局图")
    click(f"input[name=bm_{i}]")
    el(f"input[name=br_{i}]").send_keys("未标明加工制作区")
    click("#branch-correction-submit")
    flash()
    case.refresh_from_db()
    assert case.state == "correction_requested"

    # 7. The applicant sees one combined request and answers it once.
    d.set_window_size(390, 844)
    login("applicant", f"/my/cases/{number}/")
    assert "未标明加工制作区" in el("#correction").text
    el("#cf1").send_keys(pdf_path)
    click("#correction .upload-form button")
    flash()
    click("#submit-correction")
    flash()
    assert "需要补正" not in d.find_element(By.TAG_NAME, "main").text
    shot("my-case-phone")

    # 8. Both branches reviewed and decided in their department.
    d.set_window_size(1280, 900)
    for branch_case in (food, licence):
        login("approver", f"/workbench/cases/{branch_case.pk}/")
        click("input[name=decision][value=pass]")
        click("#act-review")
        flash()
        login("head", f"/workbench/cases/{branch_case.pk}/")
        click("input[name=decision][value=approve]")
        click("#act-decide")
        flash()

    # 9. The unified decision, then one delivery of every result.
    login("head", f"/workbench/cases/{case.pk}/")
    assert "准予" in el("#bundle-outcome").text
    click("#bundle-decide")
    wait.until(ec.text_to_be_present_in_element((By.ID, "case-state"), "准予许可"))
    login("clerk", f"/workbench/cases/{case.pk}/")
    click("#act-deliver")
    wait.until(ec.text_to_be_present_in_element((By.ID, "case-state"), "已送达"))
    for b in BundleBranch.objects.filter(umbrella=case).select_related("branch"):
        assert b.branch.state == "delivered", b.branch.state
    login("applicant", f"/my/cases/{number}/")
    assert "全部结果一次送达" in el("#result").text
    progress = el("#branches").text
    assert progress.count("已送达") == 2
    # Each department's decision document, now that the results are out together.
    links = d.find_elements(By.CSS_SELECTOR, '[data-kind="branch-decision"]')
    assert len(links) == 2
    pdf = d.execute_async_script(
        """const done = arguments[arguments.length - 1];
        fetch(arguments[0], {credentials: 'same-origin'}).then(r => r.text()).then(t => done(t.slice(0, 5)));""",
        links[0].get_attribute("href"),
    )
    assert pdf == "%PDF-"
    shot("delivered-phone")
