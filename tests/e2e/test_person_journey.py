"""Issue 17's journey test in headless Chromium, on a phone (390 px) and a desktop (1280 px).

Journey A (licence, result kind certificate): the applicant signs in through the login page,
opens the item's guide, applies, chooses a PDF per material and presses only 下一步, reads their
own name, phone and address in full on the review, submits, reads the receipt with the check
code's explanation and signs out. The counter clerk finds the case in the inbox and accepts it;
the approver finds it in theirs and passes the review; the department head decides 准予许可; the
clerk sends the result by courier and records it delivered. The applicant signs in again and sees
the result and the e-certificate issued (type and masked number), also under 我的证照.

Journey B (deregistration, result kind revocation of the same certificate type): the same
applicant applies for 注销 with electronic delivery; after the same steps the case page says the
certificate is revoked (已注销), names no new certificate, and 我的证照 shows it revoked.

Every step saves a full-page screenshot ``yiwang-journey-<A|B>-<nn>-<step>-<width>.png`` in
``$YIWANG_SCREENSHOT_DIR`` or else in the test's own temporary folder (printed at the end)."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests import factories
from tests.cases.conftest import PASSWORD, _fast, world  # noqa: F401  (fixtures)
from tests.e2e.conftest import browser  # noqa: F401  (the project's Chromium fixture)
from tests.pdfs import PDF

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CERT_TYPE = "食品小作坊登记证"
ADDRESS = "福州市鼓楼区五四路 158 号环球广场 2 座 1203 室"


def _items(w):
    from yiwang.catalog import services as catalog

    made = []
    for code, name, kind in (
        ("01020000300", "食品小作坊登记", "certificate"),
        ("01020000302", "食品小作坊登记（注销）", "revocation"),
    ):
        std = factories.standard_item(
            code,
            name=name,
            result_name=CERT_TYPE,
            result_kind=kind,
            result_certificate_type=CERT_TYPE,
        )
        item = factories.implementation(std, w.dept, promised_limit_days=10)
        catalog.publish(item)
        item.refresh_from_db()
        made.append(item)
    return made


@pytest.mark.parametrize("width", [390, 1280])
def test_a_person_applies_and_gets_the_result(live_server, browser, world, width, tmp_path):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select, WebDriverWait

    from tests.e2e.conftest import PAGE_SWAP_ERRORS
    from yiwang.exchange.models import ECertificate

    licence, deregistration = _items(world)
    shots = Path(os.environ.get("YIWANG_SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    folder = tempfile.mkdtemp(prefix="yiwang-journey-")
    pdf_path = os.path.join(folder, "申请书.pdf")
    Path(pdf_path).write_bytes(PDF)
    from yiwang.identity.synthetic import demo_people

    name, phone = world.person.name, demo_people()[1].phone  # the fixture's person

    d = browser
    base = live_server.url
    wait = WebDriverWait(d, 15, ignored_exceptions=PAGE_SWAP_ERRORS)
    d.set_window_size(width, 900)
    counter = {"A": 0, "B": 0}

    def el(css: str):
        return wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, css)))

    def click(css: str) -> None:
        button = wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, css)))
        d.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
        button.click()

    def main_text() -> str:
        return el("main").text

    def shot(journey: str, step: str) -> None:
        counter[journey] += 1
        wait.until(lambda drv: drv.execute_script("return document.readyState") == "complete")
        # A window as tall as the page (the browser's own bars added), so the capture is whole.
        height, bars = d.execute_script(
            "return [document.documentElement.scrollHeight, window.outerHeight - window.innerHeight]"
        )
        d.set_window_size(width, max(900, min(height + bars, 5000)))
        d.execute_script("window.scrollTo(0, 0)")
        d.save_screenshot(str(shots / f"yiwang-journey-{journey}-{counter[journey]:02d}-{step}-{width}.png"))
        d.set_window_size(width, 900)
        # Nothing is wider than the window (no sideways scrolling on a phone).
        overflow = d.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{journey} {step}: {overflow}px wider than the window"

    def sign_in(username: str) -> None:
        """Through the header's 登录 link and the real login form, back to the page it left."""
        d.delete_all_cookies()
        d.get(f"{base}/")
        click("#login-link")
        el("#id_login").send_keys(username)
        d.find_element(By.ID, "id_password").send_keys(PASSWORD)
        d.find_element(By.CSS_SELECTOR, "#login-form [type=submit]").click()
        wait.until(lambda drv: "/auth/login/" not in drv.current_url)

    def sign_out(journey: str) -> None:
        click("#account-menu > summary")
        click("#logout-button")
        wait.until(ec.element_to_be_clickable((By.ID, "login-link")))
        assert not d.find_elements(By.ID, "account-name")
        shot(journey, "signed-out")

    def apply(journey: str, item, delivery: str) -> str:
        """The applicant's part up to the receipt; returns the case number."""
        sign_in("applicant")
        assert el("#account-name").text == name
        d.get(f"{base}/items/{item.code}/")
        steps = [s.text for s in d.find_elements(By.CSS_SELECTOR, "#sec-steps .step-name")]
        # The process's steps in order (an optional 现场核查/专家评审 may sit between).
        main_steps = [s for s in steps if s in ("受理", "审查", "决定", "送达")]
        assert main_steps == ["受理", "审查", "决定", "送达"], steps
        assert item.name in el("h1").text
        shot(journey, "guide")
        click("#apply-online")
        click(".apply-form [type=submit]")  # as myself
        assert el("#id_applicant_name").get_attribute("value") == name
        assert el("#id_phone").get_attribute("value") == phone
        el("#id_reason").send_keys("家庭作坊生产糕点" if journey == "A" else "不再经营，申请注销")
        shot(journey, "form")
        click("button[value=next]")
        # Materials: a PDF chosen for every row, then only 下一步 (no separate 上传).
        el("#materials-next")
        rows = d.find_elements(By.CSS_SELECTOR, "input[type=file][id^=file]")
        assert rows
        for row in rows:
            row.send_keys(pdf_path)
        shot(journey, "materials-chosen")
        click("#materials-next")
        click(f"input[name=delivery_method][value={delivery}]")
        if delivery == "courier":
            el("#delivery_address").send_keys(ADDRESS)
        shot(journey, "delivery")
        click(".apply-form .btn-primary")
        button = el("#submit-application")
        text = main_text()
        assert "申请书.pdf" in text and "✗" not in text
        # The owner reads what they typed, unmasked.
        assert name in text and phone in text
        assert f"{name[0]}**" not in text and f"{phone[:3]}****" not in text
        if delivery == "courier":
            assert ADDRESS in text
        shot(journey, "review")
        d.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
        button.click()
        number = el("#case-number").text
        assert re.fullmatch(r"\S{8,}", number), number
        assert el("#check-code").text
        note = el("#check-code-note").text
        assert "查询码" in note and "办件查询" in note and "无需登录" in note
        shot(journey, "receipt")
        sign_out(journey)
        # Signed out from a page that needs an account: the portal's home page.
        assert urlsplit(d.current_url).path == "/"
        assert el("#login-link").text == "登录"
        return number

    def open_from_inbox(journey: str, username: str, number: str, step_label: str) -> None:
        sign_in(username)
        d.get(f"{base}/workbench/")
        row = wait.until(
            ec.presence_of_element_located((By.XPATH, f"//tr[td/a[normalize-space()='{number}']]"))
        )
        assert step_label in row.text, row.text
        shot(journey, f"inbox-{username}")
        link = row.find_element(By.TAG_NAME, "a")
        d.execute_script("arguments[0].scrollIntoView({block: 'center'})", link)
        link.click()
        wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), ""))
        assert number in main_text()

    def state_is(label: str) -> None:
        wait.until(ec.text_to_be_present_in_element((By.ID, "case-state"), label))

    def staff_part(journey: str, number: str, delivery: str, approve: str) -> None:
        open_from_inbox(journey, "clerk", number, "受理")
        # The form's phone number is masked for staff.
        assert phone not in main_text() and f"{phone[:3]}****" in main_text()
        click("#act-accept")
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".flash-success")))
        shot(journey, "accepted")
        open_from_inbox(journey, "approver", number, "审查")
        click("input[name=decision][value=pass]")
        click("#act-review")
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".flash-success")))
        shot(journey, "reviewed")
        open_from_inbox(journey, "head", number, "决定")
        assert el("#decide-approve").text == approve
        click("input[name=decision][value=approve]")
        click("#act-decide")
        state_is(approve)
        shot(journey, "decided")
        open_from_inbox(journey, "clerk", number, "送达")
        assert Select(el("#deliver-method")).first_selected_option.get_attribute("value") == delivery
        click("#act-deliver")
        if delivery == "courier":
            assert el("#tracking-number").text
            Select(el("#courier-status")).select_by_value("delivered")
            click("#act-courier")
        state_is("已送达")
        shot(journey, "delivered")

    def my_case(journey: str, number: str, approve: str) -> str:
        sign_in("applicant")
        d.get(f"{base}/my/cases/")
        click(f"a[href$='/my/cases/{number}/']")
        state_is("已送达")
        result = el("#result").text
        assert approve in result
        shot(journey, "result")
        return result

    # Journey A: a licence whose result is an e-certificate.
    number_a = apply("A", licence, "courier")
    staff_part("A", number_a, "courier", "准予许可")
    cert = ECertificate.objects.get(case__number=number_a)
    result = my_case("A", number_a, "准予许可")
    assert el("#certificate-issued").text == (
        f"已签发电子证照：{CERT_TYPE}（{cert.number_masked}），可在“我的证照”中查看。"
    )
    assert el("#certificate-issued a").get_attribute("href").endswith("/my/certificates/")
    assert cert.number not in d.page_source  # the number is shown masked
    assert "运单号" in result
    d.get(f"{base}/my/certificates/")
    text = main_text()
    assert CERT_TYPE in text and cert.number_masked in text
    shot("A", "my-certificates")
    sign_out("A")

    # Journey B: deregistration revokes that certificate and issues none.
    number_b = apply("B", deregistration, "electronic")
    staff_part("B", number_b, "electronic", "准予注销")
    result = my_case("B", number_b, "准予注销")
    assert f"已注销电子证照：{CERT_TYPE}（{cert.number_masked}）。" in result
    assert not d.find_elements(By.ID, "certificate-issued")
    assert "已签发" not in result
    d.get(f"{base}/my/certificates/")
    text = main_text()
    assert cert.number_masked in text and "已注销" in text
    shot("B", "my-certificates")
    cert.refresh_from_db()
    assert cert.status == "revoked" and ECertificate.objects.count() == 1
    print(f"screenshots: {shots}")
