from __future__ import annotations

from django.core.management import call_command

from tests import factories
from yiwang.cases.models import Case
from yiwang.catalog import services as catalog


def test_demo_cases_in_every_state(db, django_capture_on_commit_callbacks, capsys):
    regions = factories.region_tree()
    dept = factories.department(regions["county"])
    catalog.publish(factories.implementation(factories.standard_item(), dept))
    with django_capture_on_commit_callbacks(execute=False):
        call_command("load_demo_cases")
    states = set(Case.objects.values_list("state", flat=True))
    assert states == {
        "submitted",
        "correction_requested",
        "accepted",
        "suspended",
        "under_review",
        "approved",
        "denied",
        "refused",
        "delivered",
        "closed",
    }
    assert Case.objects.count() == 11
    # Each demo staff member has work waiting at the steps the process routes to their role.
    from django.contrib.auth import get_user_model

    from yiwang.workflow.selectors import inbox

    waiting = {
        name: sorted({t.spec_name for t in inbox(get_user_model().objects.get(username=name))})
        for name in ("clerk", "approver", "dept_head")
    }
    assert waiting == {"clerk": ["accept", "deliver"], "approver": ["review"], "dept_head": ["decide"]}
    call_command("load_demo_cases")  # idempotent
    assert Case.objects.count() == 11
    out = capsys.readouterr().out
    assert "已存在" in out and "clerk" in out and "chenyt" in out
    assert "审批人员（审查、现场核查/专家评审）" in out and "部门负责人（决定）" in out


def test_demo_item_is_not_a_bundle_member(db):
    """The ready-made bundles give their members forms with required fields that the demo's
    one-line application does not fill: the demo cases use an item outside every bundle."""
    from yiwang.bundles.models import Bundle, BundleMember
    from yiwang.cases import demo

    regions = factories.region_tree()
    dept = factories.department(regions["county"])
    food = factories.implementation(factories.standard_item(), dept)
    other = factories.implementation(factories.standard_item("01020000200", name="食品生产许可"), dept)
    catalog.publish(food)
    catalog.publish(other)
    first = demo._item()
    assert first in (food, other)
    bundle = Bundle.objects.create(code="restaurant", name="我要开餐馆", lead_department=dept)
    BundleMember.objects.create(bundle=bundle, item=first)
    assert demo._item() == ({food, other} - {first}).pop()
