"""Demo cases: staff of one county department and the demo applicant's cases in every state.

``yiwang load_demo_cases`` (after ``load_demo``): idempotent — when the demo applicant already
has cases it only prints the logins.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from yiwang.catalog.models import ResultKind, ServiceItem
from yiwang.identity.models import Role, StaffRole
from yiwang.identity.synthetic import DEMO_PASSWORD, create_demo_accounts

from . import actions, services
from .models import Case

STAFF = (
    ("clerk", Role.COUNTER_CLERK, "窗口受理人员"),
    ("approver", Role.APPROVER, "审批人员"),
    ("dept_head", Role.DEPARTMENT_HEAD, "部门负责人"),
)
APPLICANT = "chenyt"
DEMO_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


@dataclass(frozen=True)
class DemoCaseReport:
    logins: list[tuple[str, str, str]]
    cases: dict[str, str]  # state → case number
    created: bool


def _item() -> ServiceItem | None:
    """A published promise item of the county market-regulation bureau (or any published one).

    Not a bundle member: the ready-made bundles give their members forms with required fields
    (a restaurant's food-business licence) that the demo's one-line application does not fill.
    """
    qs = (
        ServiceItem.objects.filter(current_version__isnull=False, is_instant=False)
        .exclude(bundle_memberships__isnull=False)
        # The demo's approved case should produce its result, not revoke a certificate nobody holds.
        .exclude(result_kind=ResultKind.REVOCATION)
        .exclude(result_kind="", standard__result_kind=ResultKind.REVOCATION)
        .select_related("department")
    )
    return (
        qs.filter(department__kind="scjgj", region__level=3).order_by("code").first()
        or qs.order_by("code").first()
    )


def _steps_of(role: str) -> list[str]:
    """The steps of the promise template a demo staff role takes: each sees these cases."""
    from yiwang.workflow.selectors import shipped_template_steps

    return [s.name for s in shipped_template_steps(False) if s.role == role]


def _staff(dept) -> dict[str, object]:
    users = {}
    for username, role, label in STAFF:
        user, created = get_user_model().objects.get_or_create(
            username=username, defaults={"first_name": label}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        StaffRole.objects.get_or_create(user=user, role=role, region=dept.region, department=dept)
        users[username] = user
    return users


def _case(applicant, item, *, courier: bool = False) -> Case:
    app = services.start_application(applicant, item)
    services.save_draft(
        app,
        user=applicant,
        data={**app.data, "reason": "演示申请"},
        delivery_method="courier" if courier else "electronic",
        delivery_address="福州市鼓楼区五四路 100 号" if courier else None,
    )
    for m in services.required_materials(app):
        try:
            services.provide_from_source(app, requirement=m["name"], user=applicant)
        except Exception:
            services.upload_material(
                app,
                requirement=m["name"],
                uploaded=SimpleUploadedFile(f"{m['name']}.pdf", DEMO_PDF),
                user=applicant,
            )
    return services.submit(app, user=applicant)


def create_demo_cases() -> DemoCaseReport:
    item = _item()
    if item is None:
        raise RuntimeError("没有已发布的事项，请先运行 yiwang load_demo。")
    staff = _staff(item.department)
    create_demo_accounts()
    applicant = get_user_model().objects.get(username=APPLICANT)
    logins = [
        (u, DEMO_PASSWORD, f"{item.department.name}{label}（{'、'.join(_steps_of(role))}）")
        for u, role, label in STAFF
    ]
    logins.append((APPLICANT, DEMO_PASSWORD, "申请人（演示）"))
    existing = Case.objects.filter(applicant=applicant)
    if existing.exists():
        return DemoCaseReport(logins, {c.state: c.number for c in existing}, False)
    clerk, approver, head = staff["clerk"], staff["approver"], staff["dept_head"]
    out: dict[str, str] = {}

    c = _case(applicant, item)
    out["submitted"] = c.number

    c = _case(applicant, item)
    c = actions.RequestCorrection(
        c,
        clerk,
        items=[
            {"material": services.required_materials(c.application)[0]["name"], "reason": "缺少申请人签字"}
        ],
    ).run()
    out["correction_requested"] = c.number

    c = actions.Accept(_case(applicant, item), clerk).run()
    out["accepted"] = c.number

    c = actions.Accept(_case(applicant, item), clerk).run()
    c = actions.Suspend(c, approver, reasons="等待第三方检测报告").run()
    out["suspended"] = c.number

    c = actions.Accept(_case(applicant, item), clerk).run()
    c = actions.Review(c, approver, decision="pass").run()
    out["awaiting_decision"] = c.number  # in the department head's inbox

    c = actions.Accept(_case(applicant, item), clerk).run()
    c = actions.Review(c, approver, decision="pass").run()
    c = actions.Decide(c, head, decision="approve").run()
    out["approved"] = c.number

    c = actions.Accept(_case(applicant, item), clerk).run()
    c = actions.Review(c, approver, decision="pass").run()
    c = actions.Decide(c, head, decision="deny", reasons="经营场所与申请材料不符").run()
    out["denied"] = c.number

    c = actions.RefuseToAccept(_case(applicant, item), clerk, reasons="申请事项不属于本机关职权范围").run()
    out["refused"] = c.number

    c = actions.Accept(_case(applicant, item, courier=True), clerk).run()
    c = actions.Review(c, approver, decision="pass").run()
    c = actions.Decide(c, head, decision="approve").run()
    c = actions.Deliver(c, clerk).run()
    out["in_transit"] = c.number

    c = actions.Accept(_case(applicant, item), clerk).run()
    c = actions.Review(c, approver, decision="pass").run()
    c = actions.Decide(c, head, decision="approve").run()
    c = actions.Deliver(c, clerk, method="electronic").run()
    out["delivered"] = c.number

    c = actions.Accept(_case(applicant, item), clerk).run()
    c = actions.Review(c, approver, decision="pass").run()
    c = actions.Decide(c, head, decision="approve").run()
    c = actions.Deliver(c, clerk, method="counter").run()
    c = actions.Close(c, clerk).run()
    out["closed"] = c.number
    return DemoCaseReport(logins, out, True)
