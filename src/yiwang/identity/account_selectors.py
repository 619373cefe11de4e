"""Reads for the account pages: a person's own data, the companies they represent, the mandates
they gave and received. Every query starts from the person, so a page built on these functions
cannot show another person's or another company's records."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import AssuranceLevel, Company, Mandate, Person


def person_of(user) -> Person | None:
    if user is None or not user.is_authenticated:
        return None
    return Person.objects.filter(user=user).first()


def companies_represented(person: Person) -> QuerySet[Company]:
    return Company.objects.filter(legal_representative=person).order_by("name")


def mandates_given(person: Person) -> QuerySet[Mandate]:
    """Mandates of the companies ``person`` represents (whoever granted them)."""
    return (
        Mandate.objects.filter(company__legal_representative=person)
        .select_related("company", "agent")
        .prefetch_related("standard_items")
        .order_by("company__name", "-granted_at")
    )


def mandates_received(person: Person) -> QuerySet[Mandate]:
    return (
        Mandate.objects.filter(agent=person)
        .select_related("company")
        .prefetch_related("standard_items")
        .order_by("-granted_at")
    )


def mandate_for_legal_rep(person: Person, mandate_id: int) -> Mandate | None:
    """The mandate, if ``person`` represents its company (who may revoke it); else None."""
    return mandates_given(person).filter(pk=mandate_id).first()


def mandate_visible_to(person: Person, mandate_id: int) -> Mandate | None:
    """The mandate, if ``person`` represents its company or is its agent; else None."""
    return (
        mandate_for_legal_rep(person, mandate_id) or mandates_received(person).filter(pk=mandate_id).first()
    )


def standard_items_by_codes(codes: list[str]) -> list:
    """The standard items named by their basic codes; DomainError naming the first unknown code."""
    from yiwang.catalog.models import StandardItem
    from yiwang.core.errors import DomainError

    found = {s.basic_code: s for s in StandardItem.objects.filter(basic_code__in=codes)}
    for code in codes:
        if code not in found:
            raise DomainError(
                _("未找到事项编码 %(code)s，请核对基本目录事项编码") % {"code": code},
                field="standard_items",
                code="unknown_item",
            )
    return [found[c] for c in dict.fromkeys(codes)]


def mandate_status(m: Mandate, now: dt.datetime | None = None) -> tuple[str, str]:
    """(code, label): revoked, pending, expired or active."""
    now = now or timezone.now()
    if m.revoked_at is not None:
        return "revoked", _("已撤销")
    if m.starts_at > now:
        return "pending", _("未生效")
    if m.ends_at <= now:
        return "expired", _("已过期")
    return "active", _("有效")


def assurance_explanation(level: int) -> str:
    if level >= AssuranceLevel.TWO_FACTOR:
        return _("您的账号已实名核验并绑定动态口令，可以办理要求最高认证等级的事项。")
    if level >= AssuranceLevel.VERIFIED:
        return _(
            "您的账号已通过人口库实名核验。绑定动态口令（第二因素）后可提升至三级，"
            "办理要求三级认证的事项时更加安全。"
        )
    return _(
        "您的账号尚未完成实名核验，只能查询办事指南。实名核验（二级）需要人口库核验姓名和身份证号，"
        "并用短信验证码验证登记在您名下的手机号。"
    )
