"""Words that fit the item type: the approver's buttons, the decision notice and the applicant's
page say 准予/不予许可 for a licence, 予以确认/不予确认 for a confirmation, 办结/不予办理 for a
public service; only a licensing notice cites the Administrative Licensing Law; an instant
item says 即办, never "0 个工作日"; no line of a notice starts with punctuation."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from django.urls import reverse

from tests import factories
from tests.workbench.helpers import client_for
from yiwang.cases import actions, notices
from yiwang.catalog import services as catalog
from yiwang.catalog.decision_words import words_for
from yiwang.catalog.elements import display_value
from yiwang.catalog.selectors import normalize_row
from yiwang.core.pdf_page import NO_LINE_START

from .conftest import PASSWORD, submitted_case
from .test_notices import read, text_of

# item type, basic code (None: the world's licensing item), approve, deny, deny title, law cited
TYPES = [
    ("licensing", None, "准予许可", "不予许可", "不予行政许可决定书", True),
    ("confirmation", "02020000100", "予以确认", "不予确认", "不予行政确认决定书", False),
    ("public_service", "11020000100", "办结", "不予办理", "不予办理通知书", False),
    ("benefit", "03020000100", "予以给付", "不予给付", "不予行政给付决定书", False),
    ("other_power", "10020000100", "予以批准", "不予批准", "不予批准决定书", False),
]
LAW = "行政许可法"


def item_of(world, item_type: str, code: str | None):
    if code is None:
        return world.item
    std = factories.standard_item(code, name="测试事项", item_type=item_type)
    item = factories.implementation(std, world.dept, promised_limit_days=10)
    catalog.publish(item)
    item.refresh_from_db()
    return item


def reviewed(world, item):
    case = actions.Accept(submitted_case(world, item), world.clerk).run()
    return actions.Review(case, world.approver, decision="pass").run()


def pdf_lines(data: bytes) -> list[str]:
    """The notice's lines as a reader sees them (poppler's pdftotext keeps the layout)."""
    out = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True)
    return [line.strip() for line in out.stdout.decode().splitlines() if line.strip()]


def assert_no_line_starts_with_punctuation(data: bytes) -> None:
    if not shutil.which("pdftotext"):
        return
    bad = [line for line in pdf_lines(data) if line[0] in NO_LINE_START]
    assert bad == [], bad


@pytest.mark.parametrize("item_type,code,approve,deny,deny_title,cites_law", TYPES)
def test_buttons_notice_and_case_page_speak_the_item_type(
    world, client, item_type, code, approve, deny, deny_title, cites_law
):
    item = item_of(world, item_type, code)
    case = reviewed(world, item)
    assert case.item_version.elements["item_type"] == item_type

    # The approver's two choices.
    page = client_for(world.head).get(reverse("workbench:case", args=[case.pk])).content.decode()
    assert f'<span id="decide-approve">{approve}</span>' in page
    assert f'<span id="decide-deny">{deny}</span>' in page
    assert f"理由（{deny}时必填）" in page
    if item_type != "licensing":
        assert "准予许可" not in page and "不予许可" not in page

    # The acceptance notice cites the licensing law's article 32 only for a licence.
    acceptance = text_of(read(notices.issue(case, "acceptance")))
    assert (f"{LAW}》第三十二条" in acceptance) is cites_law

    case = actions.Decide(case, world.head, decision="deny", reasons="材料显示，条件不符。").run()
    data = read(notices.issue(case, "decision"))
    text = text_of(data)
    words = words_for(item_type)
    assert deny_title in text and words.denies in text and "材料显示，条件不符。" in text
    assert (LAW in text) is cites_law
    if cites_law:
        assert f"{LAW}》第三十八条" in text
    assert_no_line_starts_with_punctuation(data)

    # The applicant's page says the outcome in the same words.
    client.login(username="applicant", password=PASSWORD)
    mine = client.get(reverse("portal:my_case", args=[case.number])).content.decode()
    assert f'id="case-outcome">{deny}<' in mine


@pytest.mark.parametrize("item_type,code,approve,deny,deny_title,cites_law", TYPES[:3])
def test_approval_notice_words(world, item_type, code, approve, deny, deny_title, cites_law):
    case = actions.Decide(
        reviewed(world, item_of(world, item_type, code)), world.head, decision="approve"
    ).run()
    data = read(notices.issue(case, "decision"))
    text = text_of(data)
    words = words_for(item_type)
    assert words.approve_title in text and words.approves in text
    assert (LAW in text) is cites_law
    assert_no_line_starts_with_punctuation(data)
    assert case.events.filter(kind="decided", label=approve).exists()


def test_instant_item_says_on_the_spot_never_zero_days(world, client):
    instant = world.instant_item
    assert instant.current_version.elements["is_instant"]
    case = actions.Accept(submitted_case(world, instant), world.clerk).run()
    data = read(notices.issue(case, "acceptance"))
    text = text_of(data)
    assert "即办" in text and "0个工作日" not in text and "承诺办结时限" not in text
    assert_no_line_starts_with_punctuation(data)
    # The guide, and the search results' badge.
    guide = client.get(reverse("portal:guide", args=[instant.code])).content.decode()
    assert "即办" in guide and "0个工作日" not in guide and "0 个工作日" not in guide


def test_a_promise_of_zero_days_reads_as_instant(world, client):
    std = factories.standard_item("01020000900", name="零时限事项", statutory_limit_days=None)
    item = factories.implementation(std, world.dept, is_instant=True, promised_limit_days=0)
    catalog.publish(item)
    item.refresh_from_db()
    assert item.current_version.elements["promised_limit_days"] == 0
    guide = client.get(reverse("portal:guide", args=[item.code])).content.decode()
    assert "即办" in guide and "0个工作日" not in guide
    # The search results' badge and the change list's value, whatever the instant flag says.
    row = normalize_row(
        {"is_instant": False, "promised_limit_days": 0, "onsite_visits": 0, "online_depth": 0}
    )
    assert row["limit_label"] == "即办件"
    assert display_value("promised_limit_days", 0) == "即办"


def test_workbench_header_says_on_the_spot_for_an_instant_case(world):
    case = actions.Accept(submitted_case(world, world.instant_item), world.clerk).run()
    page = client_for(world.approver).get(reverse("workbench:case", args=[case.pk])).content.decode()
    assert " · 即办</p>" in page and "承诺 0 个工作日" not in page


def test_a_deregistration_grants_or_refuses_the_cancellation():
    """A 注销 item (result kind revocation) is not granted a licence: its buttons and notices
    speak of the cancellation, and a licence's cancellation cites article 70."""
    from yiwang.catalog.decision_words import words_of_elements

    licence = words_of_elements({"item_type": "licensing", "result_kind": "revocation"})
    assert (licence.approve, licence.deny) == ("准予注销", "不予注销")
    assert licence.citation(licence.decision_article) == "根据《中华人民共和国行政许可法》第七十条的规定，"
    other = words_of_elements({"item_type": "public_service", "result_kind": "revocation"})
    assert other.approve == "准予注销" and other.citation(other.decision_article) == ""
    assert words_of_elements({"item_type": "licensing", "result_kind": "certificate"}).approve == "准予许可"


def test_only_a_revocation_items_decided_state_reads_in_its_words():
    from yiwang.catalog.decision_words import state_label

    revocation = {"item_type": "licensing", "result_kind": "revocation"}
    assert state_label(revocation, "approved", "准予许可") == "准予注销"
    assert state_label(revocation, "denied", "不予许可") == "不予注销"
    assert state_label(revocation, "accepted", "已受理") == "已受理"
    bundle = {"item_type": "public_service", "result_kind": "decision"}
    assert state_label(bundle, "approved", "准予许可") == "准予许可"
