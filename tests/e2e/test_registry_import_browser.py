"""The owner's xlsx update of a base registry in a browser: the registry list, a sheet with a bad
row (the error next to its row, nothing written), then a good sheet. Screenshots at 390 and
1280 px wide (YIWANG_SCREENSHOT_DIR)."""

from __future__ import annotations

import os

from django.conf import settings as django_settings
from django.test import Client

from tests.e2e.conftest import SCREENSHOT_DIR
from tests.exchange.test_registries import PERSON, PERSON2, data_admin, owners  # noqa: F401
from tests.exchange.test_registry_import import sheet
from tests.identity.auth.helpers import login_with_second_factor


def test_registry_import_in_a_browser(live_server, browser, owners, tmp_path):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    from yiwang.exchange import registries
    from yiwang.exchange.models import RegistryRecord

    admin = data_admin("gaj", owners["population"])
    client = Client()
    login_with_second_factor(client, admin)
    d = browser
    wait = WebDriverWait(d, 30)
    base = live_server.url
    d.get(f"{base}/hello/")
    d.add_cookie(
        {
            "name": django_settings.SESSION_COOKIE_NAME,
            "value": client.cookies[django_settings.SESSION_COOKIE_NAME].value,
        }
    )

    def el(css: str):
        return wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, css)))

    def shot(name: str) -> None:
        d.save_screenshot(os.path.join(SCREENSHOT_DIR, f"yiwang-registry-{name}.png"))

    def upload(path) -> None:
        d.get(f"{base}/workbench/exchange/registries/population/import/")
        el("#r-file").send_keys(str(path))
        old = d.find_element(By.TAG_NAME, "html")
        d.find_element(By.ID, "r-submit").click()
        wait.until(ec.staleness_of(old))

    bad = PERSON2[:17] + ("0" if PERSON2[17] != "0" else "1")
    bad_file = tmp_path / "bad.xlsx"
    bad_file.write_bytes(
        sheet(
            (PERSON, "陈小明", "男", "1990-01-02", "正常", ""), (bad, "林芳", "女", "1985-06-07", "正常", "")
        ).read()
    )
    good_file = tmp_path / "good.xlsx"
    good_file.write_bytes(
        sheet(
            (PERSON, "陈小明", "男", "1990-01-02", "正常", ""),
            (PERSON2, "林芳", "女", "1985-06-07", "正常", ""),
        ).read()
    )
    for width in (1280, 390):
        d.set_window_size(width, 900)
        d.get(f"{base}/workbench/exchange/registries/")
        assert "福建省公安厅" in el("#registry-population").text
        shot(f"list-{width}")
        upload(bad_file)
        row = el("#row-4")
        assert "第 4 行" in row.text and "校验位" in row.text and bad not in d.page_source
        assert not RegistryRecord.objects.exists()
        shot(f"errors-{width}")
    upload(good_file)
    assert "新增 2" in el("#import-result").text
    shot("imported-390")
    assert registries.lookup("population", [PERSON2], ["name"])[PERSON2][0]["name"] == "林芳"
