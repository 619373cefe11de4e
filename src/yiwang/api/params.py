"""Filters that name another object: a code or id that names nothing is a bad parameter (422
naming the field), not an empty list that would hide a typo."""

from __future__ import annotations

from django.utils.translation import gettext as _

from yiwang.api import selectors
from yiwang.api.errors import bad_parameter
from yiwang.regions.models import Region


def region_param(code: str | None, field: str = "region") -> Region | None:
    if not code:
        return None
    region = selectors.region_by_code(code)
    if region is None:
        raise bad_parameter(field, _("区划代码 %(code)s 不存在。") % {"code": code})
    return region


def department_param(department_id: int | None, field: str = "department") -> int | None:
    if department_id is not None and not selectors.department_exists(department_id):
        raise bad_parameter(field, _("部门 %(id)s 不存在。") % {"id": department_id})
    return department_id


def theme_param(code: str | None, field: str = "theme") -> str | None:
    if code and not selectors.theme_exists(code):
        raise bad_parameter(field, _("主题代码 %(code)s 不存在。") % {"code": code})
    return code or None
