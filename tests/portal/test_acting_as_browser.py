"""Issue 17 (1) in headless Chromium, on a phone (390 px) and a desktop (1280 px): sign in,
switch to a company in the account menu (切换身份), see "name · 代表 company" in the header,
switch back to 个人."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import SCREENSHOT_DIR, browser  # noqa: F401  (the project's Chromium fixture)
from tests.identity.auth.conftest import PASSWORD, make_person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

COMPANY = "福州市鼓楼区榕味餐饮管理有限责任公司"


@pytest.mark.parametrize("width", [390, 1280])
def test_switch_to_a_company_and_back(live_server, browser, width):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    from yiwang.identity.models import Company
    from yiwang.identity.synthetic import demo_companies

    person = make_person("lisi", "11010519491231002X")
    company = Company.objects.create(
        name=COMPANY, credit_code=demo_companies()[0].credit_code, legal_representative=person
    )
    browser.set_window_size(width, 844)
    wait = WebDriverWait(browser, 10)
    shots = Path(SCREENSHOT_DIR)

    def fits(selector: str) -> bool:
        box = browser.execute_script(
            f"const r = document.querySelector('{selector}').getBoundingClientRect();"
            "return [r.left, r.right, document.documentElement.clientWidth];"
        )
        return box[0] >= 0 and box[1] <= box[2]

    browser.get(f"{live_server.url}/auth/login/?next=/items/")
    wait.until(ec.presence_of_element_located((By.ID, "login-form")))
    browser.find_element(By.ID, "id_login").send_keys("lisi")
    browser.find_element(By.ID, "id_password").send_keys(PASSWORD + Keys.ENTER)
    summary = wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, "#account-menu > summary")))
    assert browser.current_url.endswith("/items/")
    assert not browser.find_elements(By.ID, "account-acting")
    summary.click()
    choice = wait.until(
        ec.visibility_of_element_located((By.CSS_SELECTOR, f'.acting-choice[value="{company.pk}"]'))
    )
    assert choice.text == COMPANY
    assert fits(".account-links")
    browser.save_screenshot(str(shots / f"yiwang-acting-menu-{width}.png"))
    choice.click()

    acting = wait.until(ec.visibility_of_element_located((By.ID, "account-acting")))
    assert browser.current_url.endswith("/items/")  # back on the same page
    assert COMPANY in acting.get_attribute("textContent") and "代表" in acting.text
    assert browser.find_element(By.ID, "account-name").text == "张三"
    assert fits("#account-menu > summary") and fits("#account-acting")
    browser.save_screenshot(str(shots / f"yiwang-acting-header-{width}.png"))

    browser.find_element(By.CSS_SELECTOR, "#account-menu > summary").click()
    myself = wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, '.acting-choice[value=""]')))
    assert myself.get_attribute("aria-pressed") == "false"
    browser.save_screenshot(str(shots / f"yiwang-acting-menu-open-{width}.png"))
    myself.click()
    wait.until(ec.invisibility_of_element_located((By.ID, "account-acting")))
    assert browser.current_url.endswith("/items/")
    assert not browser.find_elements(By.ID, "account-acting")
    browser.save_screenshot(str(shots / f"yiwang-acting-back-{width}.png"))
