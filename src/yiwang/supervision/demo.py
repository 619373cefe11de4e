"""Demo ratings (好差评) for ``make demo``: on the demo item (the cases demo's), finished cases of
the four demo people rated with published comments, a bad rating with an open follow-up, one
rectified and re-rated, and a city supervisor who sees the ranking. Idempotent: nothing is
added when the demo item already has ratings."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.utils import timezone

from yiwang.cases import actions
from yiwang.cases.demo import _case, _item
from yiwang.cases.models import Case
from yiwang.identity.models import Role, StaffRole
from yiwang.identity.synthetic import DEMO_PASSWORD, DEMO_USERNAMES

from . import ratings
from .models import Rating

SUPERVISOR = "supervisor_city"
ONLINE = {"efficiency": 5, "guide_accuracy": 5, "convenience": 4, "usability": 5}
# (username, score, comment, published): a popular item's guide shows these comments.
GOOD = (
    ("linxf", 5, "全程网上办理，材料一次提交，三天就拿到了结果，非常方便。", True),
    ("huangzm", 4, "办事指南写得很清楚，电子证照直接复用，不用再跑腿。", True),
    ("wujg", 5, "窗口工作人员很耐心，帮我把表格填完整。", True),
    ("linxf", 3, "整体还行，上传材料时页面有点慢。", False),
)


def _finished(applicant, item, staff) -> Case:
    clerk, approver, head = staff
    c = actions.Accept(_case(applicant, item), clerk).run()
    c = actions.Review(c, approver, decision="pass").run()
    c = actions.Decide(c, head, decision="approve").run()
    c = actions.Deliver(c, clerk, method="electronic").run()
    return c


def create_demo_ratings() -> list[tuple[str, str, str]]:
    """Returns the supervisor's login (username, password, description)."""
    item = _item()
    if item is None:
        return []
    users = get_user_model().objects
    sup, created = users.get_or_create(username=SUPERVISOR, defaults={"first_name": "市级监察人员"})
    if created:
        sup.set_password(DEMO_PASSWORD)
        sup.save()
    StaffRole.objects.get_or_create(
        user=sup, role=Role.SUPERVISOR, region=item.department.region.parent or item.department.region
    )
    login = [(SUPERVISOR, DEMO_PASSWORD, "市级监察人员（好差评排名、差评整改）")]
    if Rating.objects.filter(item=item).exists():
        return login
    staff = tuple(users.get(username=u) for u in ("clerk", "approver", "dept_head"))
    people = {u: users.get(username=u) for u in DEMO_USERNAMES}
    for username, score, comment, published in GOOD:
        c = _finished(people[username], item, staff)
        ratings.rate(
            people[username],
            c,
            stage="finished",
            score=score,
            indicators=ONLINE,
            comment=comment,
            publish_comment=published,
        )
    # 陈雅婷: one bad rating still open (awaiting the call back), one rectified and re-rated.
    chen = people["chenyt"]
    c = _finished(chen, item, staff)
    ratings.rate(
        chen,
        c,
        stage="finished",
        score=2,
        indicators={**ONLINE, "efficiency": 2},
        comment="补正通知说得不清楚，来回改了两次。",
        publish_comment=True,
    )
    c = _finished(chen, item, staff)
    bad = ratings.rate(
        chen,
        c,
        stage="finished",
        score=1,
        indicators={**ONLINE, "efficiency": 1},
        comment="超过承诺时限才办结，也没有人解释。",
    )
    head = staff[2]
    ratings.record_call(
        head, bad.follow_up.pk, note="已电话联系申请人致歉，说明延误原因。", called_at=timezone.now()
    )
    ratings.report(
        head, bad.follow_up.pk, text="已调整审查分工，超期前一日由负责人督促；补正告知使用统一模板。"
    )
    ratings.rerate(
        chen,
        bad.pk,
        score=4,
        indicators=ONLINE,
        comment="整改后有人回电说明，态度很好。",
        publish_comment=True,
    )
    return login
