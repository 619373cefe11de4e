"""The figures page in headless Chromium on a phone (390 px) and a desktop (1280 px): the table
with its totals, the wide table scrolling inside its frame (not the page), sorting by a column."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cases.conftest import PASSWORD, _fast, staff, submitted_case, world  # noqa: F401  (fixtures)
from tests.e2e.conftest import SCREENSHOT_DIR, browser  # noqa: F401  (the project's Chromium fixture)
from yiwang.cases import actions
from yiwang.identity.models import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [390, 1280])
def test_figures_page(live_server, browser, world, width):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    for _ in range(2):
        case = submitted_case(world)
    actions.Accept(case, world.clerk).run()
    staff("sup", Role.SUPERVISOR, region=world.regions["county"])

    browser.set_window_size(width, 900)
    browser.get(f"{live_server.url}/auth/login/?next=/workbench/figures/")
    browser.find_element(By.ID, "id_login").send_keys("sup")
    browser.find_element(By.ID, "id_password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "#login-form [type=submit]").click()
    WebDriverWait(browser, 10).until(lambda d: "/workbench/figures/" in d.current_url)

    assert browser.find_element(By.TAG_NAME, "h1").text == "效能统计"
    first = browser.find_element(By.CSS_SELECTOR, "#figures-table tbody th")
    assert world.dept.name in first.text
    total = browser.find_elements(By.CSS_SELECTOR, "#figures-table tfoot td")
    assert total[0].text == "2" and total[1].text == "1"  # received, accepted
    assert browser.execute_script("return document.documentElement.scrollWidth") <= width
    shots = Path(SCREENSHOT_DIR)
    browser.save_screenshot(str(shots / f"yiwang-figures-{width}.png"))

    browser.find_element(By.LINK_TEXT, "受理").click()
    WebDriverWait(browser, 10).until(lambda d: "sort=accepted" in d.current_url)
    assert browser.find_element(By.CSS_SELECTOR, "th[aria-sort]").text.startswith("受理")
