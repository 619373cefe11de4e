"""Registration, company and mandates in headless Chromium (phone-sized window), keyboard only
for the registration form."""

from __future__ import annotations

import re

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.e2e.conftest import SCREENSHOT_DIR, browser  # noqa: F401  (the project's Chromium fixture)
from yiwang.identity.models import Mandate, Person
from yiwang.identity.sms import FakeSmsGateway
from yiwang.identity.synthetic import demo_companies, demo_people, demo_registrant, ensure_demo_registry

from .conftest import PASSWORD, register

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_register_company_and_mandate(live_server, browser):  # noqa: F811
    ensure_demo_registry()
    lin, chen = demo_people()[:2]
    register(chen, "chenyt")
    d = browser
    wait = WebDriverWait(d, 10)
    d.get(f"{live_server.url}/account/register/person/")
    # Keyboard only: type each field and tab to the next one.
    d.find_element(By.ID, "id_name").click()
    wrong = lin.id_number[:-1] + ("1" if lin.id_number[-1] != "1" else "2")
    for value in (lin.name, wrong, lin.phone, "linxf", PASSWORD, PASSWORD):
        d.switch_to.active_element.send_keys(value)
        d.switch_to.active_element.send_keys(Keys.TAB)
    d.switch_to.active_element.send_keys(Keys.ENTER)
    error = wait.until(ec.visibility_of_element_located((By.ID, "id_id_number_error")))
    assert error.text == f"身份证号校验位错误，应为{lin.id_number[-1]}"
    assert d.find_element(By.ID, "id_id_number").get_attribute("aria-invalid") == "true"
    field = d.find_element(By.ID, "id_id_number")
    field.clear()
    field.send_keys(lin.id_number)
    for name in ("password", "password2"):  # password fields are not sent back
        d.find_element(By.ID, f"id_{name}").send_keys(PASSWORD)
    d.find_element(By.ID, "register-submit").click()
    wait.until(ec.presence_of_element_located((By.ID, "id_code")))
    d.find_element(By.ID, "id_code").send_keys(FakeSmsGateway.last_code_to(lin.phone))
    d.find_element(By.ID, "code-submit").click()
    wait.until(ec.presence_of_element_located((By.ID, "my-id-number")))
    person = Person.objects.get(name=lin.name)
    assert d.find_element(By.ID, "my-id-number").text == person.id_number_masked
    assert lin.id_number not in d.page_source and lin.phone not in d.page_source

    company = demo_companies()[0]
    d.get(f"{live_server.url}/account/register/company/")
    d.find_element(By.ID, "id_credit_code").send_keys(company.credit_code)
    d.find_element(By.ID, "id_name").send_keys(company.name)
    d.find_element(By.ID, "company-submit").click()
    wait.until(ec.presence_of_element_located((By.ID, "mandate-form")))
    d.find_element(By.ID, "id_agent_id_number").send_keys(chen.id_number)
    d.find_element(By.ID, "id_all_items").click()
    d.find_element(By.ID, "mandate-submit").click()
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".mandate.status-active")))
    m = Mandate.objects.get()
    assert m.agent.name == chen.name and m.all_items
    d.find_element(By.ID, f"revoke-{m.pk}").click()
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".mandate.status-revoked")))
    d.save_screenshot(f"{SCREENSHOT_DIR}/yiwang-account.png")
    m.refresh_from_db()
    assert m.revoked_at is not None


@pytest.mark.parametrize("width", [390, 1280])
def test_register_with_the_code_from_the_demo_sms_page(live_server, browser, width):  # noqa: F811
    """The demo's walk: details, the same answer, the code read on the fake gateway's page
    (another tab, as a phone would be), the account at level 2."""
    ensure_demo_registry()
    p = demo_registrant()
    d = browser
    d.set_window_size(width, 900)
    wait = WebDriverWait(d, 10)
    d.get(f"{live_server.url}/account/register/person/")
    for name, value in (("name", p.name), ("id_number", p.id_number), ("phone", p.phone)):
        d.find_element(By.ID, f"id_{name}").send_keys(value)
    for name, value in (("username", "zhenglj"), ("password", PASSWORD), ("password2", PASSWORD)):
        d.find_element(By.ID, f"id_{name}").send_keys(value)
    d.save_screenshot(f"{SCREENSHOT_DIR}/yiwang-register-{width}-1-details.png")
    d.find_element(By.ID, "register-submit").click()
    sent = wait.until(ec.visibility_of_element_located((By.ID, "code-sent")))
    assert sent.text == "如果信息无误，我们已向登记的手机号发送验证码"
    d.save_screenshot(f"{SCREENSHOT_DIR}/yiwang-register-{width}-2-code.png")
    code_page = d.current_window_handle
    d.find_element(By.CSS_SELECTOR, "#demo-sms-link a").click()
    wait.until(lambda drv: len(drv.window_handles) == 2)
    d.switch_to.window(next(h for h in d.window_handles if h != code_page))
    text = wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, "#demo-sms-list .sms-text"))).text
    assert "137****0005" in d.page_source and p.phone not in d.page_source
    d.save_screenshot(f"{SCREENSHOT_DIR}/yiwang-register-{width}-3-demo-sms.png")
    code = re.search(r"验证码为 (\d{6})", text).group(1)
    d.close()
    d.switch_to.window(code_page)
    d.find_element(By.ID, "id_code").send_keys("000000" if code != "000000" else "111111")
    d.find_element(By.ID, "code-submit").click()
    error = wait.until(ec.visibility_of_element_located((By.ID, "id_code_error")))
    assert error.text == "验证码错误，请核对短信后重新填写。"
    assert d.find_element(By.ID, "id_code").get_attribute("aria-invalid") == "true"
    field = d.find_element(By.ID, "id_code")
    field.clear()
    field.send_keys(code)
    d.find_element(By.ID, "code-submit").click()
    level = wait.until(ec.visibility_of_element_located((By.ID, "my-level")))
    assert level.text.startswith("2 级")
    d.save_screenshot(f"{SCREENSHOT_DIR}/yiwang-register-{width}-4-account.png")
    assert not d.execute_script("return document.documentElement.scrollWidth > window.innerWidth")
    assert Person.objects.get().assurance_level == 2
