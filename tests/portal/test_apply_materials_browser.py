"""Issue 17 (3) in headless Chromium, on a phone (390 px) and a desktop (1280 px): the applicant
chooses files on the materials step and presses only 下一步; the files are uploaded, and the
review page shows them with the applicant's own name, phone and address in full."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from tests.cases.conftest import PASSWORD, _fast, png_bytes, world  # noqa: F401  (fixtures)
from tests.e2e.conftest import SCREENSHOT_DIR, browser  # noqa: F401  (the project's Chromium fixture)
from tests.pdfs import PDF

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ADDRESS = "福州市鼓楼区五四路 158 号环球广场 2 座 1203 室"


@pytest.mark.parametrize("width", [390, 1280])
def test_files_chosen_then_next_reach_the_review(live_server, browser, world, width):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    from yiwang.cases.models import Application, CaseMaterial

    shots = Path(SCREENSHOT_DIR)
    files = tempfile.mkdtemp(prefix="yiwang-apply-")
    pdf_path, png_path = os.path.join(files, "申请书.pdf"), os.path.join(files, "营业执照.png")
    Path(pdf_path).write_bytes(PDF)
    Path(png_path).write_bytes(png_bytes())

    d = browser
    d.set_window_size(width, 900)
    wait = WebDriverWait(d, 15)

    def el(css: str):
        return wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, css)))

    def full_shot(name: str) -> None:
        height = d.execute_script("return document.documentElement.scrollHeight")
        d.set_window_size(width, max(900, min(height, 5000)))
        d.execute_script("window.scrollTo(0, 0)")
        d.save_screenshot(str(shots / f"yiwang-apply-{name}-{width}.png"))
        d.set_window_size(width, 900)

    d.get(f"{live_server.url}/auth/login/?next=/apply/{world.item.code}/")
    el("#id_login").send_keys("applicant")
    d.find_element(By.ID, "id_password").send_keys(PASSWORD)
    d.find_element(By.CSS_SELECTOR, "#login-form [type=submit]").click()
    wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, ".apply-form [type=submit]"))).click()
    name = el("#id_applicant_name").get_attribute("value")
    phone = el("#id_phone").get_attribute("value")
    assert name == world.person.name and phone  # prefilled from the account
    el("#id_reason").send_keys("开办餐饮店")
    d.find_element(By.CSS_SELECTOR, "button[value=next]").click()

    # Materials: choose both files, press nothing but 下一步.
    el("#file0").send_keys(pdf_path)
    el("#file1").send_keys(png_path)
    # No reuse link where it would fail (a person has no business licence to reuse).
    assert not d.find_elements(By.CSS_SELECTOR, "#m1 button[name=reuse]")
    full_shot("materials-chosen")
    d.find_element(By.ID, "materials-next").click()

    # Delivery by courier, then the review.
    wait.until(
        ec.element_to_be_clickable((By.CSS_SELECTOR, "input[name=delivery_method][value=courier]"))
    ).click()
    el("#delivery_address").send_keys(ADDRESS)
    d.find_element(By.CSS_SELECTOR, ".apply-form .btn-primary").click()
    button = el("#submit-application")
    app = Application.objects.get(applicant=world.applicant)
    stored = {m.requirement: m.original_name for m in CaseMaterial.objects.filter(application=app)}
    assert stored == {"食品经营许可申请书": "申请书.pdf", "营业执照": "营业执照.png"}
    text = d.find_element(By.TAG_NAME, "main").text
    assert "申请书.pdf" in text and "营业执照.png" in text and "✗" not in text
    # The owner sees what they typed, in full.
    assert name in text and phone in text and ADDRESS in text
    # (The ID number is prefilled from the account as its mask, by design: it is not typed.)
    assert f"{name[0]}**" not in text and f"{phone[:3]}****" not in text and "****\n" not in text
    assert button.is_enabled()
    full_shot("review-own-data")
