"""The decision document's title and wording follow the item's type (published elements)."""

from __future__ import annotations

import pytest

from tests import factories
from yiwang.cases import actions, notices
from yiwang.catalog import services as catalog

from .conftest import submitted_case
from .test_notices import read, text_of


def decided(world, item, decision: str):
    case = submitted_case(world, item)
    case = actions.Accept(case, world.clerk).run()
    case = actions.Review(case, world.approver, decision="pass").run()
    kw = {"reasons": "不符合法定条件"} if decision == "deny" else {}
    return actions.Decide(case, world.head, decision=decision, **kw).run()


def item_of_type(world, item_type: str, code: str, name: str):
    std = factories.standard_item(code, name=name, item_type=item_type)
    item = factories.implementation(std, world.dept, promised_limit_days=10)
    catalog.publish(item)
    item.refresh_from_db()
    return item


@pytest.mark.parametrize(
    "item_type,code,decision,title,wording,absent",
    [
        ("licensing", None, "approve", "准予行政许可决定书", "决定准予行政许可", "不予"),
        ("licensing", None, "deny", "不予行政许可决定书", "决定不予行政许可", "准予"),
        ("confirmation", "02020000100", "approve", "行政确认决定书", "决定予以确认", "行政许可决定书"),
        ("confirmation", "02020000100", "deny", "不予行政确认决定书", "决定不予确认", "行政许可"),
        ("public_service", "11020000100", "approve", "办理结果通知书", "决定予以办理", "行政许可"),
        ("public_service", "11020000100", "deny", "不予办理通知书", "决定不予办理", "行政许可决定"),
    ],
)
def test_decision_title_by_item_type(world, item_type, code, decision, title, wording, absent):
    item = world.item if code is None else item_of_type(world, item_type, code, "测试事项")
    case = decided(world, item, decision)
    assert case.item_version.elements["item_type"] == item_type
    assert notices.title_of(case, "decision") == title
    text = text_of(read(notices.issue(case, "decision")))
    assert title in text and wording in text and absent not in text
    if decision == "deny":
        assert "不符合法定条件" in text and "行政复议" in text
