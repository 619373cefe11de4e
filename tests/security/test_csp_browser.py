"""Headless Chromium loads the pages under the real CSP and reports no violation in its console:
home, search, guide, login, the admin changelist, /api/docs (Swagger UI) and the BPMN diagram."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests import factories as f
from tests.e2e.conftest import CHROMEDRIVER, CHROMIUM
from tests.identity.auth.helpers import login_with_second_factor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def logging_browser() -> Iterator:
    """The e2e browser plus the console log, where Chromium reports every CSP violation."""
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.fail(f"Chromium or chromedriver missing ({CHROMIUM}, {CHROMEDRIVER})")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="yiwang-csp-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _violations(driver) -> list[str]:
    return [
        e["message"]
        for e in driver.get_log("browser")
        if "Content Security Policy" in e["message"] or "Content-Security-Policy" in e["message"]
    ]


def _published_item() -> str:
    from yiwang.catalog import services

    regions = f.region_tree()
    item = f.implementation(f.standard_item(), f.department(regions["county"]))
    services.publish(item, actor_label="test")
    return item.code


def test_pages_load_without_csp_violations(live_server, logging_browser) -> None:
    code = _published_item()
    admin = get_user_model().objects.create_superuser("root", password="pw-123456789")
    client = Client()
    login_with_second_factor(client, admin)
    assert client.get("/admin/workflow/processdefinition/").status_code == 200  # creates the templates
    from yiwang.workflow.models import ProcessDefinition

    definition = ProcessDefinition.objects.order_by("pk").first()
    assert definition is not None

    driver = logging_browser
    base = live_server.url
    pages = {
        "home": "/",
        "search": "/search/?q=食品",
        "guide": f"/items/{code}/",
        "login": "/auth/login/",
        "register": "/account/register/person/",
        "api docs": "/api/docs",
    }
    seen = {}
    for name, path in pages.items():
        driver.get(base + path)
        time.sleep(0.5 if name != "api docs" else 2)  # Swagger UI renders after loading the schema
        seen[name] = _violations(driver)
    assert driver.find_elements("css selector", ".swagger-ui .opblock"), "Swagger UI did not render"

    driver.get(base + "/")
    cookie = client.cookies["sessionid"]
    driver.add_cookie({"name": "sessionid", "value": cookie.value, "path": "/"})
    admin_pages = {
        "admin index": "/admin/",
        "admin changelist": "/admin/workflow/processdefinition/",
        "admin change form": f"/admin/workflow/processdefinition/{definition.pk}/change/",
        "audit changelist": "/admin/core/auditentry/",
        "diagram": f"/admin/workflow/processdefinition/{definition.pk}/diagram/",
    }
    for name, path in admin_pages.items():
        driver.get(base + path)
        time.sleep(0.5 if name != "diagram" else 2)
        assert "/auth/login" not in driver.current_url, name
        seen[name] = _violations(driver)
    assert driver.find_elements("css selector", "#canvas svg"), "bpmn-js did not draw the diagram"
    assert {name: v for name, v in seen.items() if v} == {}
