"""Issue 17 (2) in headless Chromium, on a phone (390 px) and a desktop (1280 px): switch to
繁體中文 and read the item names, the department and the guide in Traditional characters."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import PAGE_SWAP_ERRORS, SCREENSHOT_DIR, browser  # noqa: F401  (the project's Chromium fixture)
from tests.portal.conftest import build_catalog

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [390, 1280])
def test_switch_to_traditional_chinese_shows_traditional_data(live_server, browser, width):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    catalog = build_catalog()
    browser.set_window_size(width, 900)
    # A language switch replaces the page: an element read mid-swap is stale, so try again.
    wait = WebDriverWait(browser, 10, ignored_exceptions=PAGE_SWAP_ERRORS)
    shots = Path(SCREENSHOT_DIR)

    def lang() -> str:
        return browser.find_element(By.TAG_NAME, "html").get_attribute("lang")

    browser.get(f"{live_server.url}/items/?audience=person")
    names = browser.find_element(By.CSS_SELECTOR, "ol.item-list").text
    assert "社会保险参保登记" in names and "福州市人力资源和社会保障局" in names
    browser.find_element(By.CSS_SELECTOR, 'button[data-lang="zh-hant"]').click()
    wait.until(lambda d: lang() == "zh-Hant")
    names = browser.find_element(By.CSS_SELECTOR, "ol.item-list").text
    assert "社會保險參保登記" in names and "福州市人力資源和社會保障局" in names
    assert "社会保险参保登记" not in names
    browser.execute_script("document.querySelector('ol.item-list').scrollIntoView()")
    browser.save_screenshot(str(shots / f"yiwang-hant-list-{width}.png"))

    browser.find_element(By.PARTIAL_LINK_TEXT, "社會保險參保登記").click()
    wait.until(lambda d: catalog.social.code in d.current_url)
    assert browser.find_element(By.ID, "guide-title").text == "社會保險參保登記"
    basic = browser.find_element(By.ID, "sec-basic").text
    assert "福州市人力資源和社會保障局" in basic and "福州市（市級）" in basic
    browser.save_screenshot(str(shots / f"yiwang-hant-guide-{width}.png"))

    browser.find_element(By.CSS_SELECTOR, 'button[data-lang="zh-hans"]').click()
    wait.until(lambda d: lang() == "zh-Hans")
    assert browser.find_element(By.ID, "guide-title").text == "社会保险参保登记"
