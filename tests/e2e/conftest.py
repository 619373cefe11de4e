"""Headless Chromium (Debian's chromium + chromium-driver) for the browser tests."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator

import pytest

CHROMIUM = os.environ.get("YIWANG_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("YIWANG_CHROMEDRIVER", "/usr/bin/chromedriver")
SCREENSHOT_DIR = os.environ.get("YIWANG_SCREENSHOT_DIR", tempfile.gettempdir())


@pytest.fixture
def browser() -> Iterator:
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.fail(
            f"Chromium or chromedriver missing ({CHROMIUM}, {CHROMEDRIVER}): "
            "apt-get install -y chromium chromium-driver"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="yiwang-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-dev-shm-usage",
        "--lang=zh-CN",
        f"--user-data-dir={profile}",
        "--window-size=390,844",
    ):
        options.add_argument(arg)
    # Headless Chromium ignores --lang for Accept-Language; a Chinese reader's browser sends zh-CN.
    options.add_experimental_option("prefs", {"intl.accept_languages": "zh-CN,zh"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def clean_search_index(transactional_db) -> Iterator[None]:
    # transactional_db flushes the model tables, not the search package's own tables.
    from yiwang.catalog.search.index import clear_index

    clear_index()
    yield
    clear_index()


def page_replaced(old_html):
    """A wait condition: the page whose <html> element was ``old_html`` has been replaced.
    Chromium reports a detached element either as a stale reference or, between two pages, as
    "Node with given id does not belong to the document" (a plain WebDriverException):
    ``expected_conditions.staleness_of`` knows only the first."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException

    def condition(_driver) -> bool:
        try:
            old_html.is_enabled()
        except (StaleElementReferenceException, WebDriverException):
            return True
        return False

    return condition


def _page_swap_errors() -> tuple:
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException

    return (StaleElementReferenceException, WebDriverException)


# What a wait condition may meet while one page replaces another (a stale reference, or
# Chromium's "Node with given id does not belong to the document"): try again, do not fail.
PAGE_SWAP_ERRORS = _page_swap_errors()
