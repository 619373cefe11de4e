"""The portal in a real browser: search (Chinese and pinyin), guide, languages, print, large text."""

from __future__ import annotations

import base64
import os
import re

import pytest
from selenium.common.exceptions import (
    JavascriptException,
    NoSuchElementException,
    StaleElementReferenceException,
    WebDriverException,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.common.print_page_options import PrintOptions
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.e2e.conftest import SCREENSHOT_DIR, page_replaced
from tests.portal.conftest import build_catalog

pytestmark = [pytest.mark.browser]


def wait_for(driver, condition, timeout: float = 10):
    # A page being replaced detaches the elements the condition looked at: try again.
    return WebDriverWait(
        driver,
        timeout,
        # "Node with given id does not belong to the document" comes as a plain WebDriverException.
        ignored_exceptions=(
            StaleElementReferenceException,
            NoSuchElementException,
            JavascriptException,
            WebDriverException,
        ),
    ).until(condition)


def text_of(driver, css: str) -> str:
    return driver.find_element(By.CSS_SELECTOR, css).text


def html_lang(driver) -> str:
    return driver.find_element(By.TAG_NAME, "html").get_attribute("lang")


def shot(driver, name: str) -> str:
    path = os.path.join(SCREENSHOT_DIR, f"yiwang-{name}.png")
    # A full-page capture: size the window to the document, then restore it.
    width, height = driver.get_window_size().values()
    full = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(width, max(height, min(full, 6000)))
    driver.save_screenshot(path)
    driver.set_window_size(width, height)
    return path


def search_from(driver, field_id: str, words: str) -> None:
    page = driver.find_element(By.TAG_NAME, "html")
    box = driver.find_element(By.ID, field_id)
    box.clear()
    box.send_keys(words, Keys.ENTER)
    # From a results page the old page has a result count too: wait for it to be replaced first.
    wait_for(driver, page_replaced(page))
    wait_for(driver, ec.presence_of_element_located((By.CSS_SELECTOR, "p.result-count")))


def test_portal_journey(live_server, browser, clean_search_index):
    catalog = build_catalog()
    d = browser
    d.set_window_size(390, 844)
    d.get(live_server.url + "/")
    assert html_lang(d) == "zh-Hans"
    assert "一网通办政务服务平台" in d.title
    shot(d, "home-phone")

    # The first Tab reaches the skip link, which moves focus to the main content.
    d.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    assert d.switch_to.active_element.get_attribute("class") == "skip-link"

    # Search in Chinese, then in pinyin, and open the guide from the results.
    search_from(d, "home-q", "社保")
    assert "社会保险参保登记" in text_of(d, "ol.item-list")
    assert "“社保”共找到 1 项事项" in text_of(d, "p.result-count")
    search_from(d, "search-q", "huzhao")
    assert "普通护照签发" in text_of(d, "ol.item-list")
    assert d.find_elements(By.CSS_SELECTOR, "ol.item-list mark")  # pinyin match highlighted
    shot(d, "search-phone")
    d.find_element(By.PARTIAL_LINK_TEXT, "护照").click()
    wait_for(d, ec.presence_of_element_located((By.ID, "guide-title")))
    assert text_of(d, "#guide-title") == "普通护照签发"
    assert catalog.passport.code in d.current_url
    assert "申请材料" in text_of(d, "#h-materials")
    shot(d, "guide-phone")

    # Switch language: English, then Traditional Chinese, then back.
    d.find_element(By.CSS_SELECTOR, 'button[data-lang="en"]').click()
    wait_for(d, lambda drv: html_lang(drv) == "en")
    assert text_of(d, "#h-materials") == "Application materials"
    assert text_of(d, "#guide-title") == "普通护照签发"  # content stays as published
    d.find_element(By.CSS_SELECTOR, 'button[data-lang="zh-hant"]').click()
    wait_for(d, lambda drv: html_lang(drv) == "zh-Hant")
    assert text_of(d, "#h-materials") == "申請材料"
    assert text_of(d, "#h-steps") == "辦理流程"
    d.find_element(By.CSS_SELECTOR, 'button[data-lang="zh-hans"]').click()
    wait_for(d, lambda drv: html_lang(drv) == "zh-Hans")
    assert text_of(d, "#h-materials") == "申请材料"

    # The print view hides the navigation and shows the footer with the URL and item code.
    d.find_element(By.LINK_TEXT, "打印预览").click()
    wait_for(d, lambda drv: "print=1" in drv.current_url)
    assert not d.find_element(By.CSS_SELECTOR, ".main-nav").is_displayed()
    assert not d.find_element(By.CSS_SELECTOR, ".site-header").is_displayed()
    footer = text_of(d, ".print-footer")
    assert catalog.passport.code in footer and f"/items/{catalog.passport.code}/" in footer
    d.execute_script("window.__printed = 0; window.print = function () { window.__printed += 1; };")
    d.find_element(By.CSS_SELECTOR, "button[data-print]").click()
    assert d.execute_script("return window.__printed") == 1
    d.set_window_size(794, 1123)  # A4 at 96 dpi
    table_width = d.execute_script(
        "return document.querySelector('table.materials').getBoundingClientRect().width"
    )
    page_width = d.execute_script("return document.documentElement.clientWidth")
    assert table_width <= page_width
    shot(d, "guide-print-view")
    # Chromium's own print pipeline on A4: the guide prints on a couple of pages.
    options = PrintOptions()
    options.page_width, options.page_height = 21.0, 29.7
    pdf = base64.b64decode(d.print_page(options))
    assert pdf.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert 1 <= pages <= 3, pages
    with open(os.path.join(SCREENSHOT_DIR, "yiwang-guide.pdf"), "wb") as fh:
        fh.write(pdf)
    d.set_window_size(390, 844)

    # Large text for older people: the toggle sets the cookie and enlarges text site-wide.
    d.get(live_server.url + f"/items/{catalog.passport.code}/")
    base = d.execute_script("return parseFloat(getComputedStyle(document.documentElement).fontSize)")
    d.find_element(By.ID, "large-text-toggle").click()
    wait_for(
        d, lambda drv: drv.find_element(By.ID, "large-text-toggle").get_attribute("aria-pressed") == "true"
    )
    large = d.execute_script("return parseFloat(getComputedStyle(document.documentElement).fontSize)")
    assert large >= base * 1.2
    assert d.get_cookie("yiwang_large_text")["value"] == "1"
    d.get(live_server.url + "/items/")
    assert d.execute_script("return parseFloat(getComputedStyle(document.documentElement).fontSize)") == large
    shot(d, "browse-large-phone")
    d.find_element(By.ID, "large-text-toggle").click()
    wait_for(
        d, lambda drv: drv.find_element(By.ID, "large-text-toggle").get_attribute("aria-pressed") == "false"
    )
    assert d.execute_script("return parseFloat(getComputedStyle(document.documentElement).fontSize)") == base

    # Desktop layout.
    d.set_window_size(1280, 900)
    d.get(live_server.url + "/")
    shot(d, "home-desktop")
    d.get(live_server.url + f"/items/{catalog.food.code}/")
    shot(d, "guide-desktop")
    # Print media on the normal guide page: no navigation or buttons in print.
    d.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    assert not d.find_element(By.CSS_SELECTOR, ".site-header").is_displayed()
    assert not d.find_element(By.CSS_SELECTOR, "button[data-print]").is_displayed()
    assert d.find_element(By.CSS_SELECTOR, ".print-footer").is_displayed()
    shot(d, "guide-print-media")
    d.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})


def test_keyboard_only_search(live_server, browser, clean_search_index):
    build_catalog()
    d = browser
    d.get(live_server.url + "/")
    # Without a mouse: the first Tab reaches the skip link, Enter jumps past the navigation (which
    # grows as the portal does), Tab to the search box, type, submit with Enter.
    body = d.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    assert "skip-link" in (d.switch_to.active_element.get_attribute("class") or "")
    d.switch_to.active_element.send_keys(Keys.ENTER)
    wait_for(d, lambda drv: drv.switch_to.active_element.get_attribute("id") == "main")
    d.switch_to.active_element.send_keys(Keys.TAB)
    for _ in range(15):
        if d.switch_to.active_element.get_attribute("id") == "home-q":
            break
        d.switch_to.active_element.send_keys(Keys.TAB)
    assert d.switch_to.active_element.get_attribute("id") == "home-q"
    outline = d.execute_script("return getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # visible focus
    d.switch_to.active_element.send_keys("shebao", Keys.ENTER)
    wait_for(d, ec.presence_of_element_located((By.CSS_SELECTOR, "ol.item-list")))
    assert "社会保险参保登记" in text_of(d, "ol.item-list")
