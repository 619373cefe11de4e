"""E-certificates (电子证照): the library of certificates the platform has issued.

A certificate belongs to a holder — a natural person or a company — named by a keyed hash of
their ID number or unified social credit code (``holder_hash``), so a later application finds
the holder's certificates without storing or scanning a plain ID number. What is personal on
the certificate (a person's name and ID number) is in ``data_cipher`` (AES-GCM, context
``exchange.certificate_data``); ``holder_name_masked`` and ``number`` are what lists show.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class HolderKind(models.TextChoices):
    PERSON = "person", _("自然人")
    COMPANY = "company", _("法人")


class CertificateStatus(models.TextChoices):
    VALID = "valid", _("有效")
    REVOKED = "revoked", _("已注销")


class ECertificate(models.Model):
    cert_type = models.CharField(_("证照类型"), max_length=100, db_index=True)
    number = models.CharField(_("证照编号"), max_length=40, unique=True)
    holder_kind = models.CharField(_("持证主体类型"), max_length=8, choices=HolderKind.choices)
    holder_hash = models.CharField(max_length=64, help_text="keyed hash of the ID number / credit code")
    holder_name_masked = models.CharField(_("持证主体"), max_length=200)
    department = models.ForeignKey(
        "regions.Department", verbose_name=_("发证部门"), on_delete=models.PROTECT, related_name="+"
    )
    issuer_name = models.CharField(_("发证机关"), max_length=200)
    issued_on = models.DateField(_("发证日期"))
    valid_from = models.DateField(_("有效期起"))
    valid_until = models.DateField(_("有效期至"), null=True, blank=True)
    data_cipher = models.TextField(blank=True, help_text="certificate data (personal parts), encrypted")
    data_public = models.JSONField(_("证照信息"), default=dict, blank=True)
    file = models.FileField(_("证照文件"), upload_to="exchange/certificates/%Y/%m/", blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    case = models.OneToOneField(
        "cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="certificate"
    )
    status = models.CharField(
        _("状态"), max_length=8, choices=CertificateStatus.choices, default=CertificateStatus.VALID
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_on = models.DateField(_("注销日期"), null=True, blank=True)
    # The approved deregistration (注销) case that revoked it; empty when staff revoked it by hand.
    revoked_by_case = models.ForeignKey(
        "cases.Case",
        verbose_name=_("注销办件"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="revoked_certificates",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("电子证照")
        verbose_name_plural = _("电子证照")
        ordering = ["-issued_on", "-pk"]
        indexes = [
            models.Index(fields=["holder_hash", "cert_type", "status"], name="ecert_holder_type"),
        ]

    def __str__(self) -> str:
        return f"{self.cert_type} {self.number}"

    @property
    def number_masked(self) -> str:
        """What pages show of the number (ZZ35*************0001), as the material checklist does."""
        from .services import mask_number

        return mask_number(self.number)


class AccessKind(models.TextChoices):
    USE = "use", _("用证")
    READ = "read", _("查看")
    REVOKE = "revoke", _("注销")


class CertificateAccess(models.Model):
    """One use or read of a certificate, for the holder's 用证记录 (access log).

    Written by ``services.record_use`` / ``services.read_certificate`` in the transaction of the
    audit entry it mirrors (``audit_seq``): the audit log is one chain for the whole platform,
    keyed by object, so "every use of every certificate of this holder, newest first, page 3"
    would be a scan of it; this table answers it from one index range (``holder_hash``, copied
    from the certificate). What it shows is already masked: no plain name is stored here.
    """

    certificate = models.ForeignKey(
        ECertificate, verbose_name=_("电子证照"), on_delete=models.PROTECT, related_name="accesses"
    )
    holder_hash = models.CharField(max_length=64, help_text="the certificate's holder_hash")
    kind = models.CharField(_("类型"), max_length=8, choices=AccessKind.choices)
    at = models.DateTimeField(_("时间"), default=timezone.now)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    by_staff = models.BooleanField(_("工作人员"), default=False)
    actor_masked = models.CharField(_("使用人"), max_length=100, blank=True)
    department = models.ForeignKey(
        "regions.Department", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    office = models.CharField(_("使用单位"), max_length=200, blank=True)
    purpose = models.CharField(_("用途"), max_length=200, blank=True)
    case_number = models.CharField(_("办件编号"), max_length=24, blank=True)
    audit_seq = models.BigIntegerField(_("审计序号"), null=True, blank=True)

    class Meta:
        verbose_name = _("用证记录")
        verbose_name_plural = _("用证记录")
        ordering = ["-pk"]
        indexes = [
            models.Index(fields=["holder_hash", "-id"], name="ecert_access_holder"),
            models.Index(fields=["certificate", "-id"], name="ecert_access_cert"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.certificate_id} {self.at:%Y-%m-%d %H:%M}"
