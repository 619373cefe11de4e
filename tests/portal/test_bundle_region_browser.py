"""Issue 17 (9) in headless Chromium, on a phone (390 px) and a desktop (1280 px): the home page's
life-event card 开办餐饮店 opens the items of the life event until the reader says where they
live; with 福州市 chosen it opens 福州's online bundle 我要开餐馆 (not 厦门's of the same name), whose
questionnaire, answered 个体工商户, lists no company material. /bundles/ shows the same city's
bundles. Screenshots ``yiwang-bundle-region-*.png`` in ``YIWANG_SCREENSHOT_DIR``."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.cache import cache

from tests.e2e.conftest import SCREENSHOT_DIR, browser  # noqa: F401  (the project's Chromium fixture)
from tests.portal.bundle_world import build_bundle_world
from tests.portal.test_bundle_regions import COMPANY_ONLY, SHAREHOLDERS, xiamen_restaurant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_life_event_card_to_the_regions_bundle_and_its_questionnaire(live_server, browser):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select, WebDriverWait

    cache.clear()
    w = build_bundle_world()
    xiamen = xiamen_restaurant(w)
    shots = Path(SCREENSHOT_DIR)
    wait = WebDriverWait(browser, 15)
    card = 'a.card[href$="/{}/"]'
    for width in (390, 1280):
        browser.delete_all_cookies()
        browser.set_window_size(width, 900)
        browser.get(f"{live_server.url}/")
        # No region yet: the card opens the life event's items.
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, card.format("le02"))))
        assert not browser.find_elements(By.CSS_SELECTOR, card.format(w.bundle.code))
        Select(browser.find_element(By.ID, "region-select")).select_by_value(w.regions["city"].code)
        browser.find_element(By.CSS_SELECTOR, ".region-form button[type=submit]").click()
        link = wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, card.format(w.bundle.code))))
        assert not browser.find_elements(By.CSS_SELECTOR, card.format(xiamen.code))
        assert "在线一次办" in link.text and "开办餐饮店" in link.text
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", link)
        browser.save_screenshot(str(shots / f"yiwang-bundle-region-home-{width}.png"))
        link.click()
        start = wait.until(ec.element_to_be_clickable((By.ID, "start-bundle")))
        assert browser.find_element(By.TAG_NAME, "h1").text == "我要开餐馆"
        assert "鼓楼区市场监督管理局" in browser.page_source
        browser.save_screenshot(str(shots / f"yiwang-bundle-region-guide-{width}.png"))
        start.click()
        wait.until(ec.presence_of_element_located((By.ID, "questionnaire")))
        browser.find_element(By.CSS_SELECTOR, 'label[for="q-entity_type-individual"]').click()
        browser.find_element(By.CSS_SELECTOR, 'label[for="q-signage-no"]').click()
        browser.find_element(By.ID, "see-items").click()
        needed = wait.until(ec.presence_of_element_located((By.ID, "needed-materials")))
        text = needed.text
        assert "法定代表人（负责人）身份证明" in text and "《个体工商户设立登记申请表》" in text
        for name in (*COMPANY_ONLY, SHAREHOLDERS, "招牌设置效果图"):
            assert name not in text, name
        skipped = browser.find_element(By.CSS_SELECTOR, ".bundle-skipped").text
        assert "有限责任公司设立登记" in skipped
        browser.execute_script("document.getElementById('h-needed-materials').scrollIntoView()")
        browser.save_screenshot(str(shots / f"yiwang-bundle-region-materials-{width}.png"))
        # The bundle list of the same region.
        browser.get(f"{live_server.url}/bundles/")
        region = wait.until(ec.presence_of_element_located((By.ID, "bundle-region")))
        assert "福州市" in region.text
        assert browser.find_elements(By.CSS_SELECTOR, f'a[href$="/bundles/{w.bundle.code}/"]')
        assert not browser.find_elements(By.CSS_SELECTOR, f'a[href$="/bundles/{xiamen.code}/"]')
        browser.save_screenshot(str(shots / f"yiwang-bundle-region-list-{width}.png"))
        # Without a region the list asks for a city.
        browser.delete_all_cookies()
        browser.get(f"{live_server.url}/bundles/")
        wait.until(ec.presence_of_element_located((By.ID, "choose-city")))
        assert not browser.find_elements(By.CSS_SELECTOR, f'a[href$="/bundles/{w.bundle.code}/"]')
        browser.save_screenshot(str(shots / f"yiwang-bundle-region-choose-{width}.png"))
