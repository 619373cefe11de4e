"""The demo accounts: one per kind of back-office user, with known passwords."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction

from yiwang.identity.models import Role, StaffRole
from yiwang.regions.models import Department, DepartmentKind, Region, RegionLevel


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    description: str


# Known on purpose: this is a demo. Never load_demo on a production database.
ADMIN = ("admin", "yiwang-admin-2026")
PROVINCE_ADMIN = ("sheng", "yiwang-sheng-2026")
COUNTY_ADMIN = ("xian", "yiwang-xian-2026")


def _user(username: str, password: str, *, superuser: bool = False, first_name: str = ""):
    user, _ = get_user_model().objects.get_or_create(username=username)
    user.is_staff = True
    user.is_superuser = superuser
    user.is_active = True
    user.first_name = first_name
    user.set_password(password)
    user.save()
    return user


def _county_department(province: Region) -> Department | None:
    """The market-regulation bureau of the province's first county (鼓楼区 in Fujian)."""
    return (
        Department.objects.filter(
            region__level=RegionLevel.COUNTY,
            region__path__startswith=province.path,
            kind=DepartmentKind.MARKET_REGULATION,
        )
        .select_related("region")
        .order_by("region__code")
        .first()
    )


@transaction.atomic
def create_demo_users(province: Region) -> list[DemoLogin]:
    """Create (or reset) the platform admin, the provincial catalogue admin and one county
    department's catalogue admin; returns their logins."""
    admin = _user(*ADMIN, superuser=True, first_name="平台管理员")
    StaffRole.objects.get_or_create(user=admin, role=Role.PLATFORM_ADMIN, region=None, department=None)
    sheng = _user(*PROVINCE_ADMIN, first_name="省级事项管理员")
    StaffRole.objects.get_or_create(user=sheng, role=Role.CATALOGUE_ADMIN, region=province, department=None)
    logins = [
        DemoLogin(*ADMIN, "平台管理员（超级用户，可管理全部数据）"),
        DemoLogin(*PROVINCE_ADMIN, f"{province.name}事项管理员（管理基本目录和全省实施清单）"),
    ]
    dept = _county_department(province)
    if dept is not None:
        xian = _user(*COUNTY_ADMIN, first_name="县级部门事项管理员")
        StaffRole.objects.get_or_create(
            user=xian, role=Role.CATALOGUE_ADMIN, region=dept.region, department=dept
        )
        logins.append(DemoLogin(*COUNTY_ADMIN, f"{dept.name}事项管理员（只管理本部门的实施清单）"))
    return logins


def demo_logins(province: Region) -> list[DemoLogin]:
    """The logins as load_demo prints them (without touching the accounts)."""
    dept = _county_department(province)
    logins = [
        DemoLogin(*ADMIN, "平台管理员（超级用户，可管理全部数据）"),
        DemoLogin(*PROVINCE_ADMIN, f"{province.name}事项管理员（管理基本目录和全省实施清单）"),
    ]
    if dept is not None:
        logins.append(DemoLogin(*COUNTY_ADMIN, f"{dept.name}事项管理员（只管理本部门的实施清单）"))
    return logins
