"""The certificate as a PDF (``core.pdf_page``: fpdf2, the Noto Sans SC subset embedded like the
notices', so it shows Chinese on a machine without Chinese fonts), with a QR code holding the
absolute address of its verification page (``verify_url``). A person's ID number is printed masked (``core.crypto.mask_id_number``), as
printed e-licences do: the file may be copied into later applications and kept by the holder, and the
full number stays encrypted in ``ECertificate.data_cipher``."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from django.core import signing
from fpdf import FPDF

from yiwang.core import pdf_page
from yiwang.core.crypto import mask_id_number
from yiwang.core.pdf_page import FONT, qr_png

from .models import ECertificate, HolderKind

VERIFY_SALT = "yiwang.exchange.verify"


def verify_signature(number: str) -> str:
    """The code a certificate's verification address carries: a signature of its number
    (django.core.signing, so SECRET_KEY_FALLBACKS keep printed codes valid across a key change),
    which keeps certificate numbers from being enumerated on the public page."""
    return signing.Signer(salt=VERIFY_SALT).signature(number)


def signature_matches(number: str, signature: str) -> bool:
    try:
        return signing.Signer(salt=VERIFY_SALT).unsign(f"{number}:{signature}") == number
    except signing.BadSignature:
        return False


def verify_url(cert: ECertificate) -> str:
    return pdf_page.public_url(
        f"/verify/certificate/{quote(cert.number)}/?{urlencode({'s': verify_signature(cert.number)})}"
    )


def _shown_id(cert: ECertificate, data: dict[str, Any]) -> str:
    """The masked ID number of a person (masked again here, whatever ``data`` holds); a
    company's unified social credit code is public registry data and is shown whole."""
    if cert.holder_kind == HolderKind.PERSON:
        return (
            mask_id_number(data.get("holder_id", ""))
            if data.get("holder_id")
            else data.get("holder_id_masked", "")
        )
    return data.get("holder_id", data.get("holder_id_masked", ""))


def render(cert: ECertificate, data: dict[str, Any]) -> bytes:
    holder_label = "持证人" if cert.holder_kind == HolderKind.PERSON else "持证单位"
    id_label = "公民身份号码" if cert.holder_kind == HolderKind.PERSON else "统一社会信用代码"
    rows = [
        ("证照编号", cert.number),
        (holder_label, data.get("holder_name", cert.holder_name_masked)),
        (id_label, _shown_id(cert, data)),
        ("许可事项", data.get("item", "")),
        ("发证机关", cert.issuer_name),
        ("发证日期", f"{cert.issued_on:%Y年%m月%d日}"),
        (
            "有效期",
            f"{cert.valid_from:%Y年%m月%d日}至"
            + (f"{cert.valid_until:%Y年%m月%d日}" if cert.valid_until else "长期"),
        ),
        ("办件编号", data.get("case_number", "")),
    ]
    footer = "本电子证照由一网通办平台签发，与纸质证照具有同等效力。扫码核验真伪。"
    everything = "".join([cert.cert_type, footer, *(f"{a}：{b}" for a, b in rows)])

    def draw(pdf: FPDF) -> None:
        pdf.set_margins(20, 20, 20)
        pdf.set_font(FONT, size=24)
        pdf.cell(w=0, h=18, text=cert.cert_type, align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(6)
        pdf.set_font(FONT, size=12)
        for label, value in rows:
            pdf_page.paragraph(pdf, f"{label}：{value}", 9)
        pdf.ln(8)
        y = pdf.get_y()
        pdf.image(qr_png(verify_url(cert)), x=20, y=y, w=30, h=30)
        pdf.set_xy(56, y + 8)
        pdf.set_font(FONT, size=10)
        pdf_page.paragraph(pdf, footer, 6, x=56)

    return pdf_page.render(f"{cert.cert_type} {cert.number}", everything, draw)
