"""Staff roles and their scopes. (People, companies, mandates and OIDC arrive with issue 3.)"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    COUNTER_CLERK = "counter_clerk", _("窗口受理人员")
    APPROVER = "approver", _("审批人员")
    DEPARTMENT_HEAD = "department_head", _("部门负责人")
    CATALOGUE_ADMIN = "catalogue_admin", _("事项管理员")
    SUPERVISOR = "supervisor", _("监察人员")
    DATA_ADMIN = "data_admin", _("数据管理员")
    PLATFORM_ADMIN = "platform_admin", _("平台管理员")


class StaffRole(models.Model):
    """A role held by a staff account, scoped to a region (and everything below it) and,
    optionally, to one department kind or one department."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_roles")
    role = models.CharField(_("角色"), max_length=24, choices=Role.choices)
    region = models.ForeignKey(
        "regions.Region",
        verbose_name=_("区划范围"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        help_text=_("含下级区划；留空表示全省"),
    )
    department = models.ForeignKey(
        "regions.Department",
        verbose_name=_("部门"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        help_text=_("留空表示区划内所有部门"),
    )
    granted_at = models.DateTimeField(_("授予时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("工作人员角色")
        verbose_name_plural = _("工作人员角色")
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "region", "department"], name="staff_role_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.get_role_display()}"
