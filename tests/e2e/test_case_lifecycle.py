"""A case from application to closing in headless Chromium: apply with a real PDF and PNG,
a one-time correction, corrected, accepted, reviewed, approved, sent by courier with a tracking
number, delivered, closed; the PDF notices are opened and read with pypdf."""

from __future__ import annotations

import base64
import io
import os
import re
import tempfile

import pytest
from pypdf import PdfReader

from tests.cases.conftest import PASSWORD, World, _fast, world  # noqa: F401  (fixtures)
from tests.e2e.conftest import SCREENSHOT_DIR, browser  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _real_pdf(text: str) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=14)
    pdf.cell(text=text)
    return bytes(pdf.output())


def _real_png() -> bytes:
    import segno

    buf = io.BytesIO()
    segno.make("yiwang licence").save(buf, kind="png", scale=4)
    return buf.getvalue()


def _files() -> tuple[str, str]:
    folder = tempfile.mkdtemp(prefix="yiwang-e2e-")
    pdf_path = os.path.join(folder, "application.pdf")
    png_path = os.path.join(folder, "licence.png")
    with open(pdf_path, "wb") as fh:
        fh.write(_real_pdf("Food business licence application"))
    with open(png_path, "wb") as fh:
        fh.write(_real_png())
    return pdf_path, png_path


def _pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return re.sub(r"[\s\x00]+", "", "".join(p.extract_text() for p in reader.pages))


def test_case_lifecycle_in_the_browser(live_server, browser, world):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.e2e.conftest import PAGE_SWAP_ERRORS

    d = browser
    wait = WebDriverWait(d, 15, ignored_exceptions=PAGE_SWAP_ERRORS)
    base = live_server.url
    pdf_path, png_path = _files()

    def el(css: str):
        return wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, css)))

    def click(css: str) -> None:
        button = el(css)
        d.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
        button.click()

    def shot(name: str) -> None:
        d.save_screenshot(os.path.join(SCREENSHOT_DIR, f"yiwang-case-{name}.png"))

    def both(name: str) -> None:
        """Full-page captures at phone (390x844) and desktop (1280x900) sizes."""
        size = d.get_window_size()
        for label, (w, h) in (("phone", (390, 844)), ("desktop", (1280, 900))):
            d.set_window_size(w, h)
            full = d.execute_script("return document.documentElement.scrollHeight")
            d.set_window_size(w, max(h, min(full, 5000)))
            d.execute_script("window.scrollTo(0, 0)")
            shot(f"{name}-{label}")
        d.set_window_size(size["width"], size["height"])

    def login(username: str, next_url: str) -> None:
        d.delete_all_cookies()
        d.get(f"{base}/auth/login/?next={next_url}")
        el("#id_login").send_keys(username)
        d.find_element(By.ID, "id_password").send_keys(PASSWORD)
        d.find_element(By.CSS_SELECTOR, "#login-form [type=submit]").click()
        wait.until(lambda drv: "/auth/login/" not in drv.current_url)

    def fetch(url: str) -> bytes:
        """Download with the browser's own session (the permission-checked view)."""
        data = d.execute_async_script(
            """const done = arguments[arguments.length - 1];
            fetch(arguments[0], {credentials: 'same-origin'}).then(r => r.arrayBuffer()).then(b => {
              let s = ''; const a = new Uint8Array(b);
              for (let i = 0; i < a.length; i++) s += String.fromCharCode(a[i]);
              done(btoa(s));
            }).catch(e => done('ERR' + e));""",
            url,
        )
        assert not data.startswith("ERR"), data
        return base64.b64decode(data)

    def staff_act(user: str, case_id: int, button: str) -> None:
        login(user, f"/workbench/cases/{case_id}/")
        click(button)
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".flash-success")))

    d.set_window_size(390, 844)
    # 1. From the guide to the application, through the login.
    d.get(f"{base}/items/{world.item.code}/")
    click("#apply-online")
    el("#id_login").send_keys("applicant")
    d.find_element(By.ID, "id_password").send_keys(PASSWORD)
    d.find_element(By.CSS_SELECTOR, "#login-form [type=submit]").click()
    click(".apply-form [type=submit]")  # as myself
    phone = el("#id_phone")
    assert phone.get_attribute("value")  # prefilled from the account
    el("#id_reason").send_keys("开办餐饮店")
    both("apply-form")
    click("button[value=next]")
    # 2. Materials: a real PDF and a real PNG.
    el("#file0").send_keys(pdf_path)
    click("#m0 .upload-form button")
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#m0.ok")))
    el("#file1").send_keys(png_path)
    click("#m1 .upload-form button")
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#m1.ok")))
    shot("materials-phone")
    click("button[value=next]")
    # 3. Courier delivery: the address field appears when courier is chosen.
    click("input[name=delivery_method][value=courier]")
    el("#delivery_address").send_keys("福州市鼓楼区五四路 1 号")
    click(".apply-form .btn-primary")
    # 4. Review, then a double click on submit: one case.
    button = el("#submit-application")
    shot("review-phone")
    d.execute_script("arguments[0].click(); arguments[0].click();", button)
    number = el("#case-number").text
    from yiwang.cases.models import Case

    assert Case.objects.count() == 1
    case = Case.objects.get(number=number)
    receipt = fetch(el("#receipt-pdf").get_attribute("href"))
    assert receipt.startswith(b"%PDF-") and number in _pdf_text(receipt)
    shot("receipt-phone")

    # 5. The clerk asks for a correction of the licence (checkbox per material, with a reason).
    d.set_window_size(1280, 900)
    login("clerk", f"/workbench/cases/{case.pk}/")
    for summary in d.find_elements(By.CSS_SELECTOR, ".viewer summary"):
        d.execute_script("arguments[0].parentNode.open = true", summary)
    el(".wb-materials iframe")
    both("workbench-case")
    d.find_element(By.XPATH, "//summary[contains(., '一次性告知补正')]").click()
    click("input[name=cm_1]")
    el("input[name=cr_1]").send_keys("照片不清晰，请重新上传")
    click("#form-correction button")
    wait.until(ec.text_to_be_present_in_element((By.ID, "case-state"), "待补正"))

    # 6. The applicant sees every item, re-uploads and resubmits.
    d.set_window_size(390, 844)
    login("applicant", f"/my/cases/{number}/")
    assert "照片不清晰" in el("#correction").text
    el("#cf1").send_keys(png_path)
    click("#correction .upload-form button")
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".flash-success")))
    click("#submit-correction")
    wait.until(ec.text_to_be_present_in_element((By.ID, "case-state"), "已提交"))
    shot("my-case-phone")

    # 7. Accepted, reviewed, approved, sent by courier, delivered, closed.
    d.set_window_size(1280, 900)
    staff_act("clerk", case.pk, "#act-accept")
    login("approver", f"/workbench/cases/{case.pk}/")
    click("input[name=decision][value=pass]")
    click("#act-review")
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".flash-success")))
    login("head", f"/workbench/cases/{case.pk}/")
    click("input[name=decision][value=approve]")
    click("#act-decide")
    wait.until(ec.text_to_be_present_in_element((By.ID, "case-state"), "准予许可"))
    staff_act("clerk", case.pk, "#act-deliver")
    tracking = el("#tracking-number").text
    assert tracking
    from selenium.webdriver.support.ui import Select

    Select(el("#courier-status")).select_by_value("delivered")
    click("#act-courier")
    wait.until(ec.text_to_be_present_in_element((By.ID, "case-state"), "已送达"))
    click("#act-close")
    wait.until(ec.text_to_be_present_in_element((By.ID, "case-state"), "已办结"))

    # 8. The applicant sees the result and opens the notices.
    d.set_window_size(390, 844)
    login("applicant", f"/my/cases/{number}/")
    assert "已办结" in el("#case-state").text
    assert el("#tracking").text == tracking
    kinds = {}
    for link in d.find_elements(By.CSS_SELECTOR, ".notice-list a[data-kind]"):
        kinds[link.get_attribute("data-kind")] = link.get_attribute("href")
    assert {"receipt", "correction", "acceptance", "decision"} <= set(kinds)
    for kind in ("correction", "acceptance", "decision"):
        data = fetch(kinds[kind])
        assert data.startswith(b"%PDF-"), kind
        text = _pdf_text(data)
        assert number in text, kind
    assert "准予" in _pdf_text(fetch(kinds["decision"]))
    shot("closed-phone")
    case.refresh_from_db()
    assert case.state == "closed" and case.delivery.tracking_number == tracking
