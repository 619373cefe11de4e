"""The e-certificate material provider (``YIWANG_MATERIAL_PROVIDERS``, cases/providers.py).

A required material whose source is ``e_certificate`` names a certificate type
(``certificate_type``, else the material's name). When the applicant — the company applied for,
or the person — holds a valid certificate of that type (``find``), it is offered instead of an
upload, and only then. Taking it (``take``) gives the material row the masked number, holder,
issuer and validity, and a copy of the certificate's PDF; every use is audited
(``exchange.use``).
"""

from __future__ import annotations

from typing import Any

from yiwang.cases.providers import ProvidedMaterial

from . import selectors, services
from .models import ECertificate


def _cert_type(requirement: dict[str, Any]) -> str:
    return (requirement.get("certificate_type") or requirement.get("name") or "").strip()


class ECertificateProvider:
    def supports(self, requirement: dict[str, Any]) -> bool:
        return requirement.get("source") == "e_certificate" and bool(_cert_type(requirement))

    def find(self, requirement: dict[str, Any], *, user, company=None) -> ECertificate | None:
        """The holder's valid certificate of the type, read only (no use recorded)."""
        return selectors.valid_certificate(_cert_type(requirement), user=user, company=company)

    def take(
        self, cert: ECertificate, requirement: dict[str, Any], *, user, company=None
    ) -> ProvidedMaterial:
        data = services.file_bytes(cert)
        access = services.record_use(
            cert, user=user, purpose=str(requirement.get("name", "")), company=company
        )
        return ProvidedMaterial(
            "e_certificate",
            {
                "certificate_id": cert.pk,
                "type": cert.cert_type,
                "number": services.mask_number(cert.number),
                "holder": cert.holder_name_masked,
                "issuer": cert.issuer_name,
                "issued_on": cert.issued_on.isoformat(),
                "valid_until": cert.valid_until.isoformat() if cert.valid_until else "长期",
                "registry": "电子证照库",
                # The holder's log finds the case and department of this use through it.
                "access_id": access.pk,
            },
            file_bytes=data,
            file_name=f"{cert.cert_type}.pdf",
        )
