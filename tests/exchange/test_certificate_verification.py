"""An e-certificate's QR code holds the absolute address of its verification page, which says
真实有效 for the certificate it was printed on and 未找到 for a forged number or code; the PDF
renders (pdftoppm) with no line starting with closing punctuation."""

from __future__ import annotations

import io
import shutil
import subprocess
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from PIL import Image
from pypdf import PdfReader

from tests.cases.test_notice_verification import same_image
from tests.exchange.test_certificate_files import stored_bytes
from tests.exchange.test_ecertificates import approved_case
from yiwang.core import pdf_page
from yiwang.exchange import pdf
from yiwang.exchange.models import CertificateStatus, ECertificate


@pytest.fixture
def cert(world, items, settings, django_capture_on_commit_callbacks):
    settings.YIWANG_PUBLIC_URL = "https://zwfw.example.gov.cn"
    issuing, _using = items
    case = approved_case(world, issuing, django_capture_on_commit_callbacks)
    return ECertificate.objects.get(case=case)


def test_certificate_qr_opens_its_verification_page(cert, tmp_path):
    url = pdf.verify_url(cert)
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == (
        "https",
        "zwfw.example.gov.cn",
        f"/verify/certificate/{cert.number}/",
    )
    data = stored_bytes(cert.file.name)
    (image,) = PdfReader(io.BytesIO(data)).pages[0].images
    assert same_image(image.image.convert("1"), Image.open(pdf_page.qr_png(url)).convert("1"))

    body = Client().get(parts.path + "?" + parts.query).content.decode()
    assert "真实有效" in body and cert.number in body and cert.issuer_name in body
    assert cert.holder_name_masked in body

    signature = parse_qs(parts.query)["s"][0]
    forged = Client().get(parts.path, {"s": signature[:-1] + ("A" if signature[-1] != "A" else "B")})
    assert forged.status_code == 404 and "未找到该证照" in forged.content.decode()
    other = Client().get(f"/verify/certificate/{cert.number}9/", {"s": signature})
    assert other.status_code == 404 and "真实有效" not in other.content.decode()

    ECertificate.objects.filter(pk=cert.pk).update(status=CertificateStatus.REVOKED)
    body = Client().get(parts.path + "?" + parts.query).content.decode()
    assert "已失效" in body and "真实有效" not in body

    if shutil.which("pdftotext") and shutil.which("pdftoppm"):
        path = tmp_path / "cert.pdf"
        path.write_bytes(data)
        out = subprocess.run(
            ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
        )
        for line in out.stdout.splitlines():
            for piece in line.strip().split("  "):
                piece = piece.strip()
                assert not piece or piece[0] not in pdf_page.NO_LINE_START, line
        subprocess.run(
            ["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "1", str(path), str(tmp_path / "cert")],
            check=True,
        )
        (png,) = tmp_path.glob("cert*.png")
        assert sum(Image.open(png).convert("L").histogram()[:128]) > 2000
