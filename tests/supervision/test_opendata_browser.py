"""The open-data list and a dataset page in headless Chromium, on a phone (390 px) and a desktop
(1280 px): every dataset listed, the column table readable, the downloads reachable, no
horizontal scrolling."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import SCREENSHOT_DIR, browser  # noqa: F401  (the project's Chromium fixture)
from tests.supervision.opendata_world import build_world
from yiwang.supervision.opendata import datasets as ds

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [390, 1280])
def test_dataset_list_and_dataset_page(live_server, browser, width):  # noqa: F811
    from selenium.webdriver.common.by import By

    build_world()
    browser.set_window_size(width, 900)
    shots = Path(SCREENSHOT_DIR)

    browser.get(f"{live_server.url}/opendata/")
    assert browser.find_element(By.TAG_NAME, "h1").text == "数据开放"
    titles = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".od-title a")]
    assert titles == [str(d.title) for d in ds.all_datasets()]
    assert browser.execute_script("return document.documentElement.scrollWidth") <= width
    browser.save_screenshot(str(shots / f"yiwang-opendata-list-{width}.png"))

    browser.find_element(By.LINK_TEXT, "政务服务事项目录").click()
    assert browser.current_url.endswith("/opendata/service-items/")
    assert browser.find_element(By.TAG_NAME, "h1").text == "政务服务事项目录"
    keys = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "table.od-columns td code")]
    assert keys == ds.REGISTRY["service-items"].column_keys()
    links = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".od-downloads a")]
    assert links == ["CSV", "JSON", "XLSX"]
    # The JSON-LD the page carries is what the browser parses.
    doc = json.loads(
        browser.execute_script(
            "return document.querySelector('script[type=\"application/ld+json\"]').textContent"
        )
    )
    assert doc["@type"] == "dcat:Dataset" and len(doc["dcat:distribution"]) == 3
    assert browser.execute_script("return document.documentElement.scrollWidth") <= width
    browser.save_screenshot(str(shots / f"yiwang-opendata-dataset-{width}.png"))
