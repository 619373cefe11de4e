"""The public 大屏 in headless Chromium on a wall screen (1920×1080) and a phone (390 px): the
figures, the ECharts trend drawn, the page fitting its width; then a case submitted and folded
while the page is open changes the number on the page without a reload."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cases.conftest import _fast, submitted_case, world  # noqa: F401  (fixtures)
from tests.e2e.conftest import SCREENSHOT_DIR, browser  # noqa: F401  (the project's Chromium fixture)
from yiwang.cases import actions
from yiwang.supervision import figures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (390, 844)])
def test_public_dashboard_updates_without_reload(live_server, browser, world, settings, width, height):  # noqa: F811
    from django.core.cache import cache
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    settings.YIWANG_DASHBOARD_POLL_SECONDS = 1
    settings.YIWANG_DASHBOARD_CACHE_SECONDS = 0.5
    cache.clear()
    actions.Accept(submitted_case(world), world.clerk).run()
    submitted_case(world)
    figures.fold()

    browser.set_window_size(width, height)
    browser.get(f"{live_server.url}/dashboard/")
    assert browser.find_element(By.TAG_NAME, "h1").text == "政务服务实时大屏"
    received = browser.find_element(By.ID, "kpi-received")
    assert received.text == "2"
    assert browser.find_element(By.ID, "kpi-accepted").text == "1"
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "dash-status").text == "实时")
    # ECharts drew the trend into a canvas.
    assert browser.find_elements(By.CSS_SELECTOR, "#trend-chart canvas")
    assert world.regions["city"].name in browser.find_element(By.ID, "area-grid").text
    assert browser.execute_script("return document.documentElement.scrollWidth") <= width
    if width == 1920:  # the wall: everything in view, no scrolling
        assert browser.execute_script("return document.documentElement.scrollHeight") <= height
    marker = browser.execute_script("window.__sameDocument = true; return window.__sameDocument")
    shots = Path(SCREENSHOT_DIR)
    browser.save_screenshot(str(shots / f"yiwang-dashboard-{width}.png"))

    submitted_case(world)
    figures.fold()
    WebDriverWait(browser, 15).until(lambda d: d.find_element(By.ID, "kpi-received").text == "3")
    assert browser.execute_script("return window.__sameDocument") is marker  # no reload
    assert len(browser.find_elements(By.CSS_SELECTOR, "#event-rows tr")) == 3
    browser.save_screenshot(str(shots / f"yiwang-dashboard-{width}-after.png"))
