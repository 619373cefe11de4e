"""The login with a second factor in headless Chromium: keyboard only, Chinese messages, back to
where the person was going, then "log out everywhere"."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from tests.e2e.conftest import SCREENSHOT_DIR, browser  # noqa: F401  (the project's Chromium fixture)
from yiwang.identity import mfa

from .conftest import PASSWORD, make_person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_login_with_totp_and_log_out_everywhere(live_server, browser):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    person = make_person("lisi", "11010519491231002X")
    enrolment = mfa.begin_enrolment(person.user)
    earlier = timezone.now() - timedelta(minutes=2)
    mfa.confirm_enrolment(person.user, mfa.code_at(enrolment.secret, earlier), now=earlier)
    wait = WebDriverWait(browser, 10)

    browser.get(f"{live_server.url}/auth/sessions/")
    wait.until(ec.presence_of_element_located((By.ID, "login-form")))
    assert "next=/auth/sessions/" in browser.current_url
    # A wrong password first: the message names no account.
    browser.find_element(By.ID, "id_login").send_keys("lisi")
    browser.find_element(By.ID, "id_password").send_keys("not-the-password" + Keys.ENTER)
    error = wait.until(ec.presence_of_element_located((By.ID, "login-error")))
    browser.save_screenshot(str(Path(SCREENSHOT_DIR) / "yiwang-auth-login.png"))
    assert error.text == "账号或密码不正确。"
    browser.find_element(By.ID, "id_login").clear()
    browser.find_element(By.ID, "id_login").send_keys("11010519491231002X")  # by ID number
    browser.find_element(By.ID, "id_password").send_keys(PASSWORD + Keys.ENTER)
    code_field = wait.until(ec.presence_of_element_located((By.ID, "id_code")))
    browser.save_screenshot(str(Path(SCREENSHOT_DIR) / "yiwang-auth-code.png"))
    assert browser.find_element(By.CSS_SELECTOR, "label[for=id_code]").text.startswith("动态口令")
    code_field.send_keys(mfa.code_at(enrolment.secret, timezone.now()) + Keys.ENTER)
    wait.until(ec.presence_of_element_located((By.ID, "session-list")))
    assert browser.current_url.endswith("/auth/sessions/")
    assert "当前设备" in browser.find_element(By.ID, "session-list").text
    assert "第二因素" in browser.find_element(By.ID, "session-list").text  # the session's acr 3
    browser.save_screenshot(str(Path(SCREENSHOT_DIR) / "yiwang-auth-sessions.png"))
    browser.find_element(By.ID, "end-all").click()
    wait.until(ec.presence_of_element_located((By.ID, "login-form")))
    assert "已退出全部" in browser.page_source
    browser.get(f"{live_server.url}/auth/sessions/")
    wait.until(ec.presence_of_element_located((By.ID, "login-form")))
