"""Issue 17 (1) in headless Chromium, on a phone (390 px) and a desktop (1280 px): sign in, open
the account menu by keyboard, see the name, sign out, see 登录 again on the same public page."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import SCREENSHOT_DIR, browser  # noqa: F401  (the project's Chromium fixture)
from tests.identity.auth.conftest import PASSWORD, make_person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [390, 1280])
def test_sign_in_open_the_menu_and_sign_out(live_server, browser, width):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    make_person("lisi", "11010519491231002X")
    browser.set_window_size(width, 844)
    wait = WebDriverWait(browser, 10)
    shots = Path(SCREENSHOT_DIR)

    browser.get(f"{live_server.url}/items/")
    login = wait.until(ec.element_to_be_clickable((By.ID, "login-link")))
    assert login.text == "登录" and browser.find_element(By.ID, "register-link").text == "注册"
    browser.save_screenshot(str(shots / f"yiwang-header-signed-out-{width}.png"))
    login.click()
    wait.until(ec.presence_of_element_located((By.ID, "login-form")))
    browser.find_element(By.ID, "id_login").send_keys("lisi")
    browser.find_element(By.ID, "id_password").send_keys(PASSWORD + Keys.ENTER)
    summary = wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, "#account-menu > summary")))
    assert browser.current_url.endswith("/items/")
    assert browser.find_element(By.ID, "account-name").text == "张三"
    assert not browser.find_elements(By.ID, "register-link")
    logout = browser.find_element(By.ID, "logout-button")
    assert not logout.is_displayed()  # the menu is closed
    summary.send_keys(Keys.ENTER)  # keyboard opens the disclosure
    wait.until(ec.visibility_of(logout))
    assert browser.find_element(By.ID, "account-menu").get_attribute("open") is not None
    # The open menu stays inside the window, even on a phone.
    right = browser.execute_script(
        "return document.querySelector('.account-links').getBoundingClientRect().right"
    )
    left = browser.execute_script(
        "return document.querySelector('.account-links').getBoundingClientRect().left"
    )
    assert left >= 0 and right <= browser.execute_script("return document.documentElement.clientWidth")
    browser.save_screenshot(str(shots / f"yiwang-header-menu-{width}.png"))
    logout.click()
    login = wait.until(ec.element_to_be_clickable((By.ID, "login-link")))
    assert browser.current_url.endswith("/items/")
    assert not browser.find_elements(By.ID, "account-name")
    browser.save_screenshot(str(shots / f"yiwang-header-after-logout-{width}.png"))
    browser.get(f"{live_server.url}/my/cases/")
    wait.until(ec.presence_of_element_located((By.ID, "login-form")))


def test_workbench_header_on_a_phone(live_server, browser):  # noqa: F811
    from django.contrib.auth import get_user_model
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    from tests import factories as f
    from yiwang.identity.models import Role, StaffRole

    regions = f.region_tree()
    clerk = get_user_model().objects.create_user("clerk9", password=PASSWORD, first_name="明", last_name="陈")
    StaffRole.objects.create(user=clerk, role=Role.COUNTER_CLERK, department=f.department(regions["county"]))
    browser.set_window_size(390, 844)
    wait = WebDriverWait(browser, 10)
    browser.get(f"{live_server.url}/workbench/")
    wait.until(ec.presence_of_element_located((By.ID, "login-form")))
    browser.find_element(By.ID, "id_login").send_keys("clerk9")
    browser.find_element(By.ID, "id_password").send_keys(PASSWORD + Keys.ENTER)
    summary = wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, "#account-menu > summary")))
    assert browser.find_element(By.ID, "account-name").text == "陈明"
    summary.click()
    logout = wait.until(ec.visibility_of_element_located((By.ID, "logout-button")))
    browser.save_screenshot(str(Path(SCREENSHOT_DIR) / "yiwang-header-workbench-390.png"))
    logout.click()
    wait.until(ec.element_to_be_clickable((By.ID, "login-link")))
    assert browser.current_url.rstrip("/") == live_server.url  # the portal home
