"""Active content in uploaded PDFs, read with a real parser (qpdf), and the rewritten copy.

A probe got four hand-built PDFs past the former byte-level checker: the object stream's filter
an indirect reference, an extra key ending in "obj" in its dictionary, a space after "stream",
and an XFA form with a script. Those, a corpus of hostile variants (each kind of active content
in each place a reader looks, with the dictionaries in the body or packed in an object stream),
and ordinary documents that must still pass. What is stored is the rewritten copy: the tests
read it back and look for what was removed.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import zlib

import pikepdf
import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.cases.hostile_pdfs import CORPUS, JS, LINK, PROBE, Parts, build
from tests.cases.test_upload_fuzz import _own_tempdir, accepted, refused  # noqa: F401
from yiwang.cases import sanitize, services
from yiwang.cases.uploads import check_stream

LABELS = {
    "JavaScript": "JavaScript 脚本",
    "Launch": "启动外部程序的动作（Launch）",
    "EmbeddedFile": "嵌入的文件（EmbeddedFile）",
    "XFA": "XFA 表单脚本",
    "RichMedia": "富媒体（RichMedia、Flash 或 3D）",
}


def opened(content: bytes) -> pikepdf.Pdf:
    pdf = pikepdf.open(io.BytesIO(content))
    assert len(pdf.pages) == 1
    return pdf


def stored_copy(content: bytes, name: str = "a.pdf") -> bytes:
    checked = check_stream([content], name)
    try:
        with open(checked.temp_path, "rb") as fh:
            return fh.read()
    finally:
        os.unlink(checked.temp_path)


# --- the probe's files --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PROBE))
def test_the_probes_files_are_refused(name):
    content = PROBE[name]
    pdf = opened(content)  # a reader opens each and finds what it runs
    assert b"JavaScript" not in content or name == "space-after-stream"
    if name == "xfa-script":
        assert b"x-javascript" in pdf.Root.AcroForm.XFA.read_bytes()
    else:
        assert "/JS" in pdf.Root.OpenAction
    exc = refused(content, "申请书.pdf")
    assert exc.code == "active_content"
    label = LABELS["XFA" if name == "xfa-script" else "JavaScript"]
    assert exc.messages == [f"文件“申请书.pdf”含有不允许的主动内容：{label}，不允许上传。"]


# --- the corpus ---------------------------------------------------------------------------------------


HOSTILE = [
    pytest.param(parts, found, packed, id=f"{case}-{'packed' if packed else 'body'}")
    for case, parts, found in CORPUS
    for packed in (False, True)
]


def test_the_corpus_is_large_and_real():
    assert len(HOSTILE) + len(PROBE) >= 30
    for _case, parts, _found in CORPUS:
        for packed in (False, True):
            opened(build(parts, packed=packed))


@pytest.mark.parametrize("parts, found, packed", HOSTILE)
def test_hostile_pdfs_are_refused_naming_what_was_found(parts, found, packed):
    exc = refused(build(parts, packed=packed), "材料.pdf")
    assert exc.code == "active_content"
    assert LABELS[found] in exc.messages[0] and "材料.pdf" in exc.messages[0]


def test_several_findings_are_all_named():
    parts = Parts(catalog_extra=b"/OpenAction << /S /Launch /F (a) /Next " + JS + b" >>")
    exc = refused(build(parts))
    assert exc.messages == [
        f"文件“a.pdf”含有不允许的主动内容：{LABELS['JavaScript']}、{LABELS['Launch']}，不允许上传。"
    ]


# --- ordinary documents pass, rewritten -------------------------------------------------------------------


def _fpdf_text() -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="Application form", link="https://www.gov.cn/")
    pdf.add_page()
    pdf.cell(text="Page two")
    return bytes(pdf.output())


def _scan_like() -> tuple[bytes, bytes]:
    """A page holding one grey 1240x1754 JPEG (an A4 page at 150 dpi), as a scanner writes it;
    returns the PDF and the JPEG."""
    from fpdf import FPDF
    from PIL import Image, ImageDraw

    page = Image.new("L", (1240, 1754), 235)
    draw = ImageDraw.Draw(page)
    for y in range(100, 1700, 40):
        draw.line((100, y, 1140, y), fill=40, width=3)
    jpeg = io.BytesIO()
    page.save(jpeg, format="JPEG", quality=80)
    pdf = FPDF(unit="pt", format=(595, 842))
    pdf.add_page()
    pdf.image(io.BytesIO(jpeg.getvalue()), x=0, y=0, w=595, h=842)
    return bytes(pdf.output()), jpeg.getvalue()


def test_a_text_pdf_from_fpdf2_passes_and_keeps_its_text():
    from pypdf import PdfReader

    copy = stored_copy(_fpdf_text())
    reader = PdfReader(io.BytesIO(copy))
    assert [p.extract_text() for p in reader.pages] == ["Application form", "Page two"]
    assert b"/URI" not in copy  # a link out of the document is an action: gone


def test_a_scan_like_image_pdf_passes_with_its_image_untouched():
    content, jpeg = _scan_like()
    copy = pikepdf.open(io.BytesIO(stored_copy(content, "扫描件.pdf")))
    images = [o for o in copy.objects if isinstance(o, pikepdf.Stream) and o.get("/Subtype") == "/Image"]
    assert len(images) == 1 and images[0].read_raw_bytes() == jpeg  # copied as it was, not re-encoded


def test_a_packed_pdf_and_one_qpdf_rewrote_pass():
    assert opened(stored_copy(build(packed=True)))
    pdf = pikepdf.open(io.BytesIO(_fpdf_text()))
    out = io.BytesIO()
    pdf.save(out, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    assert b"/ObjStm" in out.getvalue()
    assert len(pikepdf.open(io.BytesIO(stored_copy(out.getvalue()))).pages) == 2


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_a_pdf_from_libreoffice_passes(tmp_path):
    (tmp_path / "a.txt").write_text("申请书\nApplication form\n", encoding="utf-8")
    subprocess.run(
        ["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(tmp_path / "a.txt")],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert stored_copy((tmp_path / "a.pdf").read_bytes()).startswith(b"%PDF-")


def test_harmless_actions_are_removed_and_navigation_kept():
    """Not refused, but not kept: additional actions that only go to a page, a form that
    submits itself somewhere, a link out; an outline item and an opening view that stay in the
    document are kept."""
    parts = Parts(
        catalog_extra=b"/OpenAction [3 0 R /Fit] /Outlines 10 0 R",
        page_extra=b"/AA << /O << /S /GoTo /D [3 0 R /Fit] >> >> /Annots [12 0 R 13 0 R]",
        objects={
            10: b"<< /Type /Outlines /First 11 0 R /Last 11 0 R /Count 1 >>",
            11: b"<< /Title (Start) /Parent 10 0 R /A << /S /GoTo /D [3 0 R /Fit] >> >>",
            12: LINK % b"<< /S /URI /URI (https://evil.example/) >>",
            13: LINK % b"<< /S /SubmitForm /F << /FS /URL /F (https://evil.example/) >> >>",
        },
    )
    content = build(parts)
    copy = opened(stored_copy(content))
    assert "/AA" not in copy.pages[0].obj
    assert [("/A" in a) for a in copy.pages[0].Annots] == [False, False]
    assert copy.Root.Outlines.First.A.S == "/GoTo"
    assert list(copy.Root.OpenAction) == [copy.pages[0].obj, pikepdf.Name.Fit]
    # An opening action that is a dictionary goes, whatever it does.
    copy = opened(stored_copy(build(Parts(catalog_extra=b"/OpenAction << /S /GoTo /D [3 0 R /Fit] >>"))))
    assert "/OpenAction" not in copy.Root


def test_what_the_check_misses_the_copy_does_not_keep(tmp_path, monkeypatch):
    """The rewrite on its own (the finding of active content switched off): no JavaScript,
    Launch, embedded file, XFA, RichMedia or orphan object reaches the stored copy."""
    monkeypatch.setattr(sanitize, "_findings", lambda d: set())
    for case, parts, _found in CORPUS:
        source, target = tmp_path / f"{case}.pdf", tmp_path / f"{case}.out.pdf"
        source.write_bytes(build(parts, packed=True))
        assert sanitize.sanitize_pdf(str(source), str(target)) == {"ok": True, "pages": 1}, case
        copy = pikepdf.open(target)
        keys = set()
        for obj in copy.objects:
            if isinstance(obj, (pikepdf.Dictionary, pikepdf.Stream, pikepdf.Array)):
                for d in sanitize._direct_tree(obj):
                    keys |= set(d.keys()) | {
                        str(d.get("/S", "")),
                        str(d.get("/Subtype", "")),
                        str(d.get("/Type", "")),
                    }
        active = {"/JS", "/JavaScript", "/Launch", "/EF", "/EmbeddedFile", "/EmbeddedFiles", "/XFA"}
        active |= {"/RichMediaContent", "/RichMediaExecute", "/OnInstantiate", "/Collection", "/AA", "/GoToE"}
        assert not keys & active, (case, keys & active)


def test_unparseable_and_password_protected_pdfs_are_refused(tmp_path):
    exc = refused(b"%PDF-1.7\n" + os.urandom(2000) + b"\n%%EOF\n", "坏.pdf")
    assert exc.code == "unreadable" and "无法按 PDF 格式读取" in exc.messages[0]
    # An object stream in an encoding nobody decodes: its objects, the catalog among them, are lost.
    assert refused(build(packed=True, objstm_filter=b"/Filter /NoSuchDecode")).code == "unreadable"
    pdf = pikepdf.open(io.BytesIO(_fpdf_text()))
    locked, owner_only = io.BytesIO(), io.BytesIO()
    pdf.save(locked, encryption=pikepdf.Encryption(user="secret", owner="owner"))
    pdf.save(owner_only, encryption=pikepdf.Encryption(user="", owner="owner"))
    exc = refused(locked.getvalue(), "加密.pdf")
    assert exc.code == "encrypted" and "加密" in exc.messages[0]
    # Opens without a password (only editing is restricted): accepted, and stored unencrypted.
    assert not pikepdf.open(io.BytesIO(stored_copy(owner_only.getvalue()))).is_encrypted


def _object_stream_bomb(inflated_mb: int) -> bytes:
    """The catalog in an object stream padded with ``inflated_mb`` MB of blanks, deflated."""

    def padded(data: bytes) -> bytes:
        # A full flush resets the compressor, so every megabyte of blanks after one deflates to
        # the same bytes: deflate one and repeat it, with the zlib header and checksum written
        # here (RFC 1950). Deflating 3,000 MB for real would cost the suite half a minute.
        raw = zlib.compressobj(9, zlib.DEFLATED, -15)
        blanks = b" " * (1024 * 1024)
        head = raw.compress(data) + raw.flush(zlib.Z_FULL_FLUSH)
        block = raw.compress(blanks) + raw.flush(zlib.Z_FULL_FLUSH)
        tail = raw.flush()
        checksum = zlib.adler32(data)
        for _ in range(inflated_mb):
            checksum = zlib.adler32(blanks, checksum)
        return b"\x78\xda" + head + block * inflated_mb + tail + checksum.to_bytes(4, "big")

    return build(packed=True, objstm_encode=padded)


def test_a_decompression_bomb_costs_the_web_process_nothing(settings):
    """qpdf inflates an object stream whole: 600 MB of it exhausts the rewriting process's
    address space (set low here), which dies or gives up alone; the caller's memory does not grow."""
    import resource
    import time

    settings.YIWANG_SANITIZE_MEMORY_MB = 300
    content = _object_stream_bomb(600)
    assert len(content) < 1024 * 1024
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    exc = refused(content, "炸弹.pdf")
    assert exc.code in ("zip_bomb", "unreadable"), exc.code
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before < 32 * 1024
    assert time.monotonic() - started < 60
    assert accepted(_object_stream_bomb(20), "a.pdf")  # 20 MB inflated: an ordinary cost


def test_a_process_that_runs_out_of_time_is_a_refusal(settings):
    settings.YIWANG_SANITIZE_CPU_SECONDS = 1
    settings.YIWANG_SANITIZE_MEMORY_MB = 4000
    exc = refused(_object_stream_bomb(3000), "慢.pdf")
    assert exc.code in ("zip_bomb", "unreadable"), exc.code


# --- end to end: the stored and served file is the copy ------------------------------------------------


def test_the_stored_and_served_material_is_the_rewritten_copy(world, client):
    parts = Parts(
        page_extra=b"/Annots [10 0 R]", objects={10: LINK % b"<< /S /URI /URI (https://evil.example/) >>"}
    )
    original = build(parts, packed=True)
    app = services.start_application(world.applicant, world.item)
    material = services.upload_material(
        app,
        requirement="食品经营许可申请书",
        uploaded=SimpleUploadedFile("申请书.pdf", original),
        user=world.applicant,
    )
    with default_storage.open(material.file.name, "rb") as fh:
        stored = fh.read()
    assert stored != original and b"evil.example" not in stored and b"/ObjStm" not in stored
    assert material.size == len(stored)
    import hashlib

    assert material.sha256 == hashlib.sha256(stored).hexdigest()
    assert len(opened(stored).pages) == 1
