"""Single sign-on across two servers in headless Chromium: yiwang (live server) and the example
city portal (examples/city_portal, its own process and port). Log in at the province, open the
city portal: logged in without a password; log out at the province: the city portal's session is
gone, by back-channel logout."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.e2e.conftest import browser  # noqa: F401  (the project's headless Chromium fixture)
from yiwang.identity.models import AccountSession, RelyingPartySession
from yiwang.identity.oidc.registration import register_client

from .helpers import make_person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[3]
CLIENT_ID = "city-portal-e2e"
SECRET = "city-portal-e2e-secret-0123456789"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def city_portal(live_server) -> Iterator[str]:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    register_client(
        client_id=CLIENT_ID,
        client_secret=SECRET,
        name="福州市网上办事大厅（示例）",
        redirect_uris=[f"{base}/callback"],
        post_logout_redirect_uris=[f"{base}/"],
        backchannel_logout_uri=f"{base}/backchannel-logout",
        allowed_scopes="openid profile phone company account",
    )
    proc = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "examples" / "city_portal" / "run.py"),
            "--port",
            str(port),
            "--issuer",
            f"{live_server.url}/o",
            "--client-id",
            CLIENT_ID,
            "--client-secret",
            SECRET,
            "--scope",
            "openid profile",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        deadline = time.time() + 15
        while True:
            try:
                requests.get(f"{base}/", timeout=1)
                break
            except requests.ConnectionError:
                if time.time() > deadline or proc.poll() is not None:
                    raise RuntimeError(
                        "city portal did not start: " + proc.stdout.read().decode()[-2000:]
                    ) from None
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()


def _status(driver) -> str:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.ID, "status").text


def test_single_sign_on_and_back_channel_logout(live_server, city_portal: str, browser) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 15)
    user = make_person()

    # 1. Log in at the province.
    browser.get(f"{live_server.url}/auth/login/")
    browser.find_element(By.ID, "id_login").send_keys("zhangsan")
    browser.find_element(By.ID, "id_password").send_keys("Correct-Horse-9!")
    browser.find_element(By.ID, "login-submit").click()
    wait.until(lambda d: "/auth/login/" not in d.current_url)
    assert AccountSession.objects.filter(user=user, ended_at__isnull=True).count() == 1

    # 2. Open the city portal: not logged in there yet; "log in" goes through the province's
    #    authorization endpoint with no password prompt (first time: the consent page).
    browser.get(f"{city_portal}/")
    assert "未登录" in _status(browser)
    browser.find_element(By.ID, "login").click()
    wait.until(lambda d: d.current_url.startswith(city_portal) or d.find_elements(By.ID, "consent-allow"))
    assert not browser.find_elements(By.ID, "id_password"), "asked for a password again"
    if browser.find_elements(By.ID, "consent-allow"):
        assert "福州市网上办事大厅" in browser.page_source
        browser.find_element(By.ID, "consent-allow").click()
    wait.until(ec.presence_of_element_located((By.ID, "who")))
    assert browser.current_url.startswith(city_portal)
    assert "logged in as 张三" in _status(browser)
    assert browser.find_element(By.ID, "acr").text == "urn:yiwang:acr:2"
    assert "1****************X" in browser.page_source

    # A second visit to log in needs neither password nor consent.
    browser.get(f"{city_portal}/login")
    wait.until(ec.presence_of_element_located((By.ID, "who")))
    assert not browser.find_elements(By.ID, "consent-allow")

    # 3. Log out at the province: the city portal hears it server to server.
    browser.get(f"{live_server.url}/auth/logout/")
    browser.find_element(By.ID, "logout-submit").click()
    wait.until(lambda d: "/auth/logout/" not in d.current_url)
    rp = RelyingPartySession.objects.get(application__client_id=CLIENT_ID)
    assert rp.logout_status == "200"

    # 4. Reload the city portal: logged out there too (the browser still holds its cookie).
    browser.get(f"{city_portal}/")
    assert "未登录" in _status(browser)
    assert browser.get_cookie("city_session") is not None


def test_rp_initiated_logout_ends_the_province_session(live_server, city_portal: str, browser) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 15)
    user = make_person()
    # Start at the city portal: the province asks for the password once, then consent.
    browser.get(f"{city_portal}/login")
    wait.until(ec.presence_of_element_located((By.ID, "id_login")))
    browser.find_element(By.ID, "id_login").send_keys("zhangsan")
    browser.find_element(By.ID, "id_password").send_keys("Correct-Horse-9!")
    browser.find_element(By.ID, "login-submit").click()
    wait.until(ec.presence_of_element_located((By.ID, "consent-allow"))).click()
    wait.until(ec.presence_of_element_located((By.ID, "who")))
    # "退出登录" at the city portal: through the province's end_session_endpoint and back.
    browser.find_element(By.ID, "logout").click()
    wait.until(lambda d: d.current_url.startswith(city_portal) and d.find_elements(By.ID, "status"))
    assert "未登录" in _status(browser)
    assert not AccountSession.objects.filter(user=user, ended_at__isnull=True).exists()
    browser.get(f"{live_server.url}/auth/logout/")
    assert not browser.find_elements(By.ID, "logout-submit")  # logged out at the province too
