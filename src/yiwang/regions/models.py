"""Regions (GB/T 2260), departments, service halls and counters."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class RegionLevel(models.IntegerChoices):
    PROVINCE = 1, _("省级")
    CITY = 2, _("市级")
    COUNTY = 3, _("县级")
    TOWNSHIP = 4, _("乡镇（街道）级")


class Region(models.Model):
    """One administrative division.

    ``code`` is the 6-digit GB/T 2260 code for province, city and county, and the 9-digit
    statistical code (county code + 3 digits) for townships. ``path`` lists the codes from the
    province down, "350000/350100/350102/", so "this region and everything below it" is one
    indexed prefix query (a staff scope at a city covers its counties and townships).
    """

    code = models.CharField(_("区划代码"), max_length=12, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    level = models.PositiveSmallIntegerField(_("层级"), choices=RegionLevel.choices, db_index=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级区划"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(max_length=64, db_index=True, editable=False)
    # False for a code that is not in GB/T 2260 (a development zone's statistical code, a
    # placeholder), as the bundled code list marks it (regions/data/README.md).
    standard = models.BooleanField(
        _("GB/T 2260 代码"), default=True, help_text=_("否：功能区、统计用或占位代码，不在国家标准中")
    )
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.path = f"{self.parent.path if self.parent_id else ''}{self.code}/"
        super().save(*args, **kwargs)

    @property
    def code9(self) -> str:
        """The code as used in item codes: always 9 digits (county code + '000' above township)."""
        return self.code.ljust(9, "0")[:9]


class DepartmentKind(models.TextChoices):
    """The line of work; the same kind exists in every region (市场监管 at province, city, county)."""

    DEVELOPMENT_REFORM = "fgw", _("发展和改革")
    EDUCATION = "jyj", _("教育")
    PUBLIC_SECURITY = "gaj", _("公安")
    CIVIL_AFFAIRS = "mzj", _("民政")
    JUSTICE = "sfj", _("司法")
    FINANCE = "czj", _("财政")
    HUMAN_RESOURCES = "rsj", _("人力资源和社会保障")
    NATURAL_RESOURCES = "zrzyj", _("自然资源")
    ECOLOGY = "sthjj", _("生态环境")
    HOUSING = "zjj", _("住房和城乡建设")
    TRANSPORT = "jtj", _("交通运输")
    WATER = "slj", _("水利")
    AGRICULTURE = "nyncj", _("农业农村")
    COMMERCE = "swj", _("商务")
    CULTURE_TOURISM = "wlj", _("文化和旅游")
    HEALTH = "wjw", _("卫生健康")
    EMERGENCY = "yjglj", _("应急管理")
    MARKET_REGULATION = "scjgj", _("市场监督管理")
    MEDICAL_SECURITY = "ybj", _("医疗保障")
    TAXATION = "swju", _("税务")
    HOUSING_FUND = "gjj", _("住房公积金")
    VETERANS = "tyjrj", _("退役军人事务")
    FORESTRY = "lyj", _("林业")
    STATISTICS = "tjj", _("统计")
    TOWNSHIP_OFFICE = "xzzf", _("乡镇（街道）便民服务中心")
    # A vertical agency (直属/隶属海关), not one of every region's line departments: the
    # generator makes one per prefecture for the single-window bundle only.
    CUSTOMS = "hg", _("海关")


class Department(models.Model):
    """An implementing agency: one department of one region."""

    region = models.ForeignKey(
        Region, verbose_name=_("所属区划"), on_delete=models.PROTECT, related_name="departments"
    )
    kind = models.CharField(_("部门类别"), max_length=16, choices=DepartmentKind.choices, db_index=True)
    code = models.CharField(_("部门代码"), max_length=3, help_text=_("本区划内三位部门代码，参与事项编码"))
    name = models.CharField(_("部门名称"), max_length=100)
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)
    phone = models.CharField(_("咨询电话"), max_length=40, blank=True)
    address = models.CharField(_("地址"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("部门")
        verbose_name_plural = _("部门")
        ordering = ["region__code", "code"]
        constraints = [
            models.UniqueConstraint(fields=["region", "code"], name="department_code_unique_in_region"),
            models.UniqueConstraint(fields=["region", "kind"], name="department_kind_unique_in_region"),
        ]

    def __str__(self) -> str:
        return self.name


class ServiceHall(models.Model):
    region = models.ForeignKey(
        Region, verbose_name=_("所属区划"), on_delete=models.PROTECT, related_name="halls"
    )
    name = models.CharField(_("大厅名称"), max_length=100)
    address = models.CharField(_("地址"), max_length=200)
    phone = models.CharField(_("电话"), max_length=40, blank=True)
    opening_hours = models.CharField(_("办公时间"), max_length=200, blank=True)
    latitude = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("经度"), max_digits=9, decimal_places=6, null=True, blank=True)

    class Meta:
        verbose_name = _("政务服务大厅")
        verbose_name_plural = _("政务服务大厅")
        ordering = ["region__code", "name"]

    def __str__(self) -> str:
        return self.name


class Counter(models.Model):
    hall = models.ForeignKey(
        ServiceHall, verbose_name=_("大厅"), on_delete=models.CASCADE, related_name="counters"
    )
    number = models.CharField(_("窗口号"), max_length=16)
    name = models.CharField(_("窗口名称"), max_length=100)
    is_general = models.BooleanField(
        _("综合窗口"), default=False, help_text=_("综合窗口受理任何事项（一窗受理）")
    )
    departments = models.ManyToManyField(
        Department, verbose_name=_("进驻部门"), blank=True, related_name="counters"
    )

    class Meta:
        verbose_name = _("窗口")
        verbose_name_plural = _("窗口")
        ordering = ["hall", "number"]
        constraints = [
            models.UniqueConstraint(fields=["hall", "number"], name="counter_number_unique_in_hall")
        ]

    def __str__(self) -> str:
        return f"{self.hall.name} {self.number}"
