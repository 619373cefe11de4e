"""Rating a finished case (好差评) in headless Chromium, on a phone (390 px) and a desktop
(1280 px): the case page's 评价 button, a missing answer shown next to its question, the rating
saved, a bad one opening a follow-up the department sees, the guide showing the score."""

from __future__ import annotations

import os

import pytest
from django.utils import timezone

from tests.cases.conftest import PASSWORD, World, _fast, submitted_case, world  # noqa: F401  (fixtures)
from tests.e2e.conftest import SCREENSHOT_DIR, browser  # noqa: F401
from yiwang.cases.models import Case, CaseState
from yiwang.supervision.models import ItemRatingRollup, Rating, RatingFollowUp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [390, 1280])
def test_rate_a_finished_case(live_server, browser, world, width):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.e2e.conftest import PAGE_SWAP_ERRORS

    case = submitted_case(world)
    Case.objects.filter(pk=case.pk).update(state=CaseState.CLOSED, closed_at=timezone.now())
    d = browser
    d.set_window_size(width, 900)
    wait = WebDriverWait(d, 15, ignored_exceptions=PAGE_SWAP_ERRORS)
    base = live_server.url

    def el(css: str):
        return wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, css)))

    def click(css: str) -> None:
        button = el(css)
        d.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
        button.click()

    def shot(name: str) -> None:
        full = d.execute_script("return document.documentElement.scrollHeight")
        d.set_window_size(width, max(900, min(full, 5000)))
        d.save_screenshot(os.path.join(SCREENSHOT_DIR, f"yiwang-rating-{name}-{width}.png"))
        d.set_window_size(width, 900)

    d.delete_all_cookies()
    d.get(f"{base}/auth/login/?next=/my/cases/{case.number}/")
    el("#id_login").send_keys("applicant")
    d.find_element(By.ID, "id_password").send_keys(PASSWORD)
    d.find_element(By.CSS_SELECTOR, "#login-form [type=submit]").click()
    wait.until(lambda drv: "/auth/login/" not in drv.current_url)

    click("#rate-finished")
    wait.until(lambda drv: "/rate/finished/" in drv.current_url)
    assert d.execute_script("return document.documentElement.scrollWidth") <= width
    # Answer every question but 办事效率: the form comes back with the message next to it.
    for key, value in (("score", 2), ("guide_accuracy", 3), ("convenience", 2), ("usability", 3)):
        click(f"#q-{key} input[value='{value}']")
    el("#r-comment").send_keys("等了很久，窗口说法不一致")
    click("#submit-rating")
    err = el("#e-efficiency")
    assert err.text == "请选择一项。"
    assert d.find_element(By.CSS_SELECTOR, "#q-score input[value='2']").is_selected()  # kept
    shot("form-error")
    click("#q-efficiency .rate-2")
    click("input[name=publish_comment]")
    click("#submit-rating")
    wait.until(lambda drv: drv.current_url.endswith(f"/my/cases/{case.number}/"))
    assert "不满意" in el("#rating").text
    shot("case-rated")

    r = Rating.objects.get(case=case)
    assert (r.score, r.indicators["efficiency"], r.publish_comment) == (2, 2, True)
    f = RatingFollowUp.objects.get(rating=r)
    assert ItemRatingRollup.objects.get(item_id=case.item_id).bad == 1

    d.get(f"{base}/items/{world.item.code}/")
    assert "0.0%" in el("#satisfaction").text
    assert "等了很久" in el("#guide-comments").text
    assert d.execute_script("return document.documentElement.scrollWidth") <= width
    shot("guide")

    # The department head sees the follow-up and records the call.
    d.delete_all_cookies()
    d.get(f"{base}/auth/login/?next=/workbench/ratings/follow-ups/{f.pk}/")
    el("#id_login").send_keys(world.head.username)
    d.find_element(By.ID, "id_password").send_keys(PASSWORD)
    d.find_element(By.CSS_SELECTOR, "#login-form [type=submit]").click()
    wait.until(lambda drv: "/auth/login/" not in drv.current_url)
    click("#record-call")
    assert el("#e-call_note").text == "请填写回访记录。"
    el("#c-note").send_keys("已电话联系申请人")
    click("#record-call")
    wait.until(lambda drv: drv.find_elements(By.ID, "r-report"))
    shot("follow-up")
    f.refresh_from_db()
    assert f.status == "called"
