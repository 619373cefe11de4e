"""Applying for a bundle: the questionnaire, the umbrella draft and its submission."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _

from yiwang.cases import formschema, personal
from yiwang.cases import services as cases
from yiwang.cases.models import Application, Case
from yiwang.core.errors import DomainError, FieldError, ValidationFailed
from yiwang.identity.models import Company
from yiwang.workflow.expressions import UnsafeExpression, evaluate

from ..models import Bundle, BundleApplication, BundleMember
from .combined_form import combined_layout, combined_schema, needed_materials


def applicable_members(bundle: Bundle, answers: dict[str, Any]) -> list[BundleMember]:
    """The members whose condition holds for these questionnaire answers (no condition: always)."""
    out = []
    for m in bundle.members.select_related("item", "item__department").order_by("order", "pk"):
        if not m.condition.strip():
            out.append(m)
            continue
        try:
            if evaluate(m.condition, dict(answers or {})):
                out.append(m)
        except (UnsafeExpression, SyntaxError, TypeError, KeyError, IndexError) as exc:
            raise DomainError(_("事项“%(n)s”的适用条件无法计算。") % {"n": m.item}) from exc
    return out


def check_answers(bundle: Bundle, answers: dict[str, Any]) -> None:
    """Every question of the bundle answered with one of its choices."""
    errors = []
    for q in bundle.questions.all():
        values = {str(c.get("value")) for c in q.choices}
        if str(answers.get(q.key, "")) not in values:
            errors.append(FieldError(f"answers.{q.key}", _("请回答：%(q)s") % {"q": q.text}, "required"))
    if errors:
        raise ValidationFailed(errors)


def start_bundle_application(
    user: User,
    bundle: Bundle,
    answers: dict[str, Any],
    *,
    acting_for: Company | None = None,
    channel: str = "web",
    entered_by: User | None = None,
    idempotency_key: str | None = None,
) -> Application:
    """The umbrella draft: an application to the bundle item whose form is the combined form of
    the members the answers make applicable (fill and submit it like any draft, then
    ``submit_bundle``)."""
    item = bundle.item
    if not bundle.published or item is None or item.current_version_id is None:
        raise DomainError(_("该一件事尚未发布，暂不能申请。"), code="not_published")
    answers = {str(k): v for k, v in (answers or {}).items()}
    check_answers(bundle, answers)
    members = applicable_members(bundle, answers)
    if not members:
        raise DomainError(_("根据您的回答，没有需要办理的事项。"), code="nothing_applies")
    bundle_fields = list(bundle.fields.all())  # once for the schema and the layout
    # The combined form of the members that apply, prefilled by its own layout's mapping.
    form = (combined_schema(bundle, members, bundle_fields), combined_layout(bundle, members, bundle_fields))
    with transaction.atomic():
        app = cases.start_application(
            user,
            item,
            acting_for=acting_for,
            channel=channel,
            entered_by=entered_by,
            idempotency_key=idempotency_key,
            form=form,
        )
        # the same draft asked for twice (idempotency key); without a key the draft is new
        if idempotency_key is not None and BundleApplication.objects.filter(application=app).exists():
            return app
        BundleApplication.objects.create(
            application=app,
            bundle=bundle,
            bundle_version=bundle.version,
            answers=answers,
            member_ids=[m.pk for m in members],
            open_branches=len(members),  # what unified acceptance will spawn (it corrects it if not)
        )
    return app


def bundle_link(application: Application) -> BundleApplication:
    """The bundle application of an umbrella draft or case's application; refuses any other."""
    link = BundleApplication.objects.select_related("bundle").filter(application=application).first()
    if link is None:
        raise DomainError(_("这不是一件事的申请。"), code="not_bundle")
    return link


def missing_materials(application: Application, link: BundleApplication | None = None) -> list[str]:
    """The materials the applicable members require that the draft does not have yet."""
    link = link or bundle_link(application)
    # Names and item ids only: the material rows and the members' items are not needed here.
    have = set(application.materials.filter(replaced=False).values_list("requirement", flat=True))
    item_ids = set(BundleMember.objects.filter(pk__in=link.member_ids).values_list("item_id", flat=True))
    return [
        m.name
        for m in needed_materials(list(link.bundle.materials.all()), {str(i) for i in item_ids})
        if item_ids & {int(i) for i in m.required_for} and m.name not in have
    ]


def submit_bundle(application: Application, *, user: User) -> Case:
    """Submit the umbrella draft (idempotent like ``cases.services.submit``), every problem at
    once: the combined form's fields and every material an applicable member requires."""
    cases.check_owner(application, user)  # before anything about the draft is reported
    link = bundle_link(application)
    # A draft submitted before has its materials: cases.submit then returns the same case.
    missing = [
        FieldError(f"material:{name}", _("请提供申请材料“%(n)s”。") % {"n": name}, "missing")
        for name in missing_materials(application, link)
    ]
    if not missing:
        return cases.submit(application, user=user, bundle_role="umbrella")
    data = personal.open_data(application, reader=personal.SYSTEM)
    errors = [FieldError(k, v) for k, v in formschema.validate(application.form_schema, data).items()]
    raise ValidationFailed(errors + missing)
