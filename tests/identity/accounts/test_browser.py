"""Registration, company and mandates in headless Chromium (phone-sized window), keyboard only
for the registration form."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.e2e.conftest import SCREENSHOT_DIR, browser  # noqa: F401  (the project's Chromium fixture)
from yiwang.identity.models import Mandate, Person
from yiwang.identity.synthetic import demo_companies, demo_people, ensure_demo_registry

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
