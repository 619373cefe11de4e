"""A sharing request in headless Chromium: the consumer's data administrator finds a resource in
the catalogue, asks for it (a wrong period first: the error next to the date), the owner's data
administrator approves fewer fields, and the consumer sees the grant. Screenshots at 390 and
1280 px."""

from __future__ import annotations

import datetime as dt
import os

import pytest

from tests.e2e.conftest import SCREENSHOT_DIR, browser  # noqa: F401
from tests.exchange.sharing_world import PASSWORD, register, sharing  # noqa: F401
from yiwang.exchange.models import Grant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_request_and_approval_in_the_browser(live_server, browser, sharing):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.e2e.conftest import PAGE_SWAP_ERRORS

    d = browser
    wait = WebDriverWait(d, 15, ignored_exceptions=PAGE_SWAP_ERRORS)
    base = live_server.url
    resource = register(sharing)

    def el(css: str):
        return wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, css)))

    def click(css: str) -> None:
        button = el(css)
        d.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
        button.click()

    def both(name: str) -> None:
        size = d.get_window_size()
        for label, (w, h) in (("phone", (390, 844)), ("desktop", (1280, 900))):
            d.set_window_size(w, h)
            full = d.execute_script("return document.documentElement.scrollHeight")
            d.set_window_size(w, max(h, min(full, 5000)))
            d.execute_script("window.scrollTo(0, 0)")
            d.save_screenshot(os.path.join(SCREENSHOT_DIR, f"yiwang-sharing-{name}-{label}.png"))
        d.set_window_size(size["width"], size["height"])

    def login(username: str, next_url: str) -> None:
        d.delete_all_cookies()
        d.get(f"{base}/auth/login/?next={next_url}")
        el("#id_login").send_keys(username)
        d.find_element(By.ID, "id_password").send_keys(PASSWORD)
        d.find_element(By.CSS_SELECTOR, "#login-form [type=submit]").click()
        wait.until(lambda drv: "/auth/login/" not in drv.current_url)

    def set_date(css: str, value: dt.date) -> None:
        # a date input takes its value as yyyy-mm-dd through script (typing depends on the locale)
        d.execute_script("arguments[0].value = arguments[1]", el(css), value.isoformat())

    d.set_window_size(390, 844)
    # 1. The consumer's data administrator searches the catalogue by a field name.
    login("consumer_admin", "/workbench/exchange/catalogue/")
    el("#catalogue-filters input[name=q]").send_keys("住所")
    click("#catalogue-filters button[type=submit]")
    wait.until(lambda drv: "q=" in drv.current_url)
    assert resource.code in el("#catalogue").text
    both("catalogue")
    click(f"#catalogue a[href$='/catalogue/{resource.pk}/']")
    assert "个人敏感" in el("#resource-fields").text
    both("resource")
    # 2. The request: the period ends before it starts, then right.
    click("#ask-resource")
    for code in ("legal_representative", "registered_capital"):
        box = el(f"#q-fields input[value={code}]")
        d.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
        box.click()  # unticked: the request names three fields
    el("#q-purpose").send_keys("企业开办核验")
    el("#q-basis").send_keys("《优化营商环境条例》第三十五条")
    el("#q-items").send_keys(sharing.item.code)
    today = dt.date.today()
    set_date("#q-start", today + dt.timedelta(days=30))
    set_date("#q-end", today)
    click("#submit-request")
    assert "结束日期不能早于开始日期" in el("#e-ends_on").text
    both("request-error")
    set_date("#q-end", today + dt.timedelta(days=365))
    click("#submit-request")
    assert el("#request-state").text == "待审批"
    both("request-pending")
    # 3. The owner's data administrator approves two of the three fields.
    login("owner_admin", "/workbench/exchange/approvals/")
    assert sharing.consumer.name in el("#pending-requests").text
    click("#pending-requests a")
    box = el("#approve-form input[value=address]")
    d.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
    box.click()
    both("decide")
    click("#approve")
    wait.until(lambda drv: "已授权" in drv.find_element(By.ID, "request-state").text)
    assert "住所" not in el("#granted-fields").text
    assert Grant.objects.get().fields == ["credit_code", "name"]
    # 4. The consumer sees the grant in 我的共享申请.
    login("consumer_admin", "/workbench/exchange/requests/")
    assert "已授权" in el("#my-requests").text
    both("my-requests")
