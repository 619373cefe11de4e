"""Upload fuzzing: truncated and malformed PDFs and images, zip bombs (an OFD is a ZIP),
polyglots, hostile file names, huge declared and actual sizes. Each is refused with a Chinese
message naming the file, and nothing is stored: no file in storage, no row, no temporary file.

Real files are the starting point (a PDF from fpdf2, a JPEG and a PNG from Pillow, an OFD
archive); hypothesis cuts, extends and renames them. ``check_stream`` is the unit under test,
``services.upload_material`` and the applicant's materials page are checked end to end.
"""

from __future__ import annotations

import io
import os
import re
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.cases.conftest import World, _fast, world  # noqa: F401  (fixtures reused)
from yiwang.cases import services
from yiwang.cases.models import CaseMaterial
from yiwang.cases.uploads import UploadRefused, check_stream

CJK = re.compile(r"[\u4e00-\u9fff]")
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


# --- real files -------------------------------------------------------------------------------------


def real_pdf() -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="Application form")
    return bytes(pdf.output())


def real_jpeg(size: tuple[int, int] = (16, 16)) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buf, format="JPEG")
    return buf.getvalue()


def real_png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (16, 16), (30, 200, 30)).save(buf, format="PNG")
    return buf.getvalue()


def real_ofd(extra: dict[str, bytes] | None = None, comment: bytes = b"") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("OFD.xml", "<ofd:OFD xmlns:ofd='http://www.ofdspec.org/2016'/>")
        z.writestr("Doc_0/Document.xml", "<ofd:Document/>")
        for name, data in (extra or {}).items():
            z.writestr(name, data)
        z.comment = comment
    return buf.getvalue()


PDF, JPEG, PNG, OFD = real_pdf(), real_jpeg(), real_png(), real_ofd()
REAL = {"a.pdf": PDF, "a.jpg": JPEG, "a.png": PNG, "a.ofd": OFD}


def refused(content: bytes, name: str = "a.pdf", **kw) -> UploadRefused:
    with pytest.raises(UploadRefused) as info:
        check_stream([content], name, **kw)
    exc = info.value
    message = " ".join(exc.messages)
    assert CJK.search(message), message  # a Chinese sentence for the person
    return exc


def accepted(content: bytes, name: str):
    checked = check_stream([content], name)
    os.unlink(checked.temp_path)
    return checked


@pytest.fixture(autouse=True)
def _own_tempdir(tmp_path, monkeypatch):
    """Temporary upload files go to a directory of this test, so "nothing left behind" can be
    checked (other sessions' tests share /tmp)."""
    temp = tmp_path / "upload-temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    yield
    assert not os.listdir(temp), f"temporary files left behind: {os.listdir(temp)}"


def test_real_files_are_accepted():
    """The starting points pass (so every refusal below is the mutation's doing)."""
    assert {accepted(c, n).kind for n, c in REAL.items()} == {"pdf", "jpeg", "png", "ofd"}
    assert accepted(JPEG + b"\0" * 100, "padded.jpg").kind == "jpeg"  # cameras pad with zeros
    assert accepted(PDF + b"\r\n\r\n", "blank-after-eof.pdf").kind == "pdf"


# --- truncated and malformed ---------------------------------------------------------------------------


@FUZZ
@given(data=st.data())
@example(data=None)
def test_truncated_files_are_refused(data):
    for name, content in REAL.items():
        cut = len(content) // 2 if data is None else data.draw(st.integers(1, len(content) - 1), label=name)
        prefix = content[:cut]
        if name.endswith(".pdf") and b"%%EOF" in prefix:
            continue  # only the blank after %%EOF was cut: still a whole PDF
        exc = refused(prefix, name)
        # Cut inside the magic number, or an OFD cut anywhere (no archive directory): no known
        # kind at all. Otherwise the kind is known and the file incomplete.
        magic = {"a.pdf": 5, "a.jpg": 3, "a.png": 8, "a.ofd": len(content)}[name]
        expected = "bad_type" if cut < magic else "truncated"
        assert exc.code == expected, (name, cut, exc.code)
        if expected == "truncated":
            assert "不完整" in exc.messages[0]


@FUZZ
@given(
    kind=st.sampled_from(["a.pdf", "a.jpg", "a.png", "a.ofd"]),
    noise=st.binary(min_size=0, max_size=2048),
    where=st.integers(0, 4000),
)
def test_malformed_files_never_crash_the_check(kind, noise, where):
    """Random bytes spliced into a real file: accepted as its own kind or refused with a
    Chinese message; never another exception, never a temporary file left."""
    content = REAL[kind]
    at = min(where, len(content))
    mutated = content[:at] + noise + content[at + len(noise) :]
    try:
        checked = check_stream([mutated], kind)
    except UploadRefused as exc:
        assert CJK.search(exc.messages[0]) and kind in exc.messages[0]
    else:
        os.unlink(checked.temp_path)
        assert checked.original_name == kind


@FUZZ
@given(
    magic=st.sampled_from([b"%PDF-1.7\n", b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"PK\x03\x04"]),
    rest=st.binary(),
)
def test_random_bodies_behind_a_magic_number_are_refused(magic, rest):
    ext = {b"%": "pdf", b"\xff": "jpg", b"\x89": "png", b"P": "ofd"}[magic[:1]]
    content = magic + rest
    try:
        checked = check_stream([content], f"x.{ext}")
    except UploadRefused as exc:
        assert exc.code in (
            "truncated",
            "bad_type",
            "polyglot",
            "active_content",
            "zip_bomb",
            "encrypted",
            "unreadable",
        )
    else:  # only a PDF body can end in a %%EOF by chance
        os.unlink(checked.temp_path)
        assert ext == "pdf" and b"%%EOF" in content[-1024:]


# --- zip bombs: refused from the archive's directory, nothing inflated -----------------------------------


@pytest.fixture
def no_inflating(monkeypatch):
    """Refused with any inflating of archive data failing the test: ``with no_inflating(): ...``."""

    @contextmanager
    def forbid() -> Iterator[None]:
        def forbidden(*a, **kw):
            raise AssertionError("an archive member was inflated")

        with monkeypatch.context() as m:
            m.setattr(zlib, "decompressobj", forbidden)
            m.setattr(zlib, "decompress", forbidden)
            yield

    return forbid


def _patch_central(content: bytes, name: bytes, **fields: int) -> bytes:
    """Rewrite fields of one central-directory entry: what a hand-made bomb declares."""
    offsets = {"flags": 8, "file_size": 24}
    at = content.rfind(b"PK\x01\x02", 0, content.rfind(name) + 1)
    data = bytearray(content)
    for field, value in fields.items():
        fmt = "<H" if field == "flags" else "<I"
        struct.pack_into(fmt, data, at + offsets[field], value)
    return bytes(data)


def _refused_inflating(no_inflating, content: bytes, name: str) -> UploadRefused:
    with no_inflating():
        return refused(content, name)


def test_ratio_bomb_is_refused(no_inflating):
    bomb = real_ofd({"Doc_0/Res/image.bin": b"\0" * (20 * 1024 * 1024)})  # 20 MB of zeros, ~20 KB
    assert len(bomb) < 100_000
    exc = _refused_inflating(no_inflating, bomb, "证照.ofd")
    assert exc.code == "zip_bomb" and "压缩炸弹" in exc.messages[0]


def test_declared_size_bomb_is_refused(no_inflating):
    small = real_ofd({"Doc_0/big.xml": b"<a/>" * 10})
    exc = _refused_inflating(
        no_inflating, _patch_central(small, b"Doc_0/big.xml", file_size=0xFFFFFFF0), "证照.ofd"
    )
    assert exc.code == "zip_bomb"


def test_overlapping_entries_bomb_is_refused(no_inflating):
    """Many directory entries pointing at the same compressed data (Fifield's non-recursive bomb)."""
    content = real_ofd({"Doc_0/a.xml": b"<a/>" * 1000})
    cd = content.find(b"PK\x01\x02")
    eocd = content.rfind(b"PK\x05\x06")
    entries = content[cd:eocd]
    last = entries.rfind(b"PK\x01\x02")
    dup = bytearray(entries[last:])
    name_len = struct.unpack_from("<H", dup, 28)[0]
    dup[46 : 46 + name_len] = b"Doc_0/b.xml".ljust(name_len, b"_")[:name_len]
    count = struct.unpack_from("<H", content, eocd + 10)[0] + 1
    end = bytearray(content[eocd:])
    struct.pack_into("<HHI", end, 8, count, count, len(entries) + len(dup))
    forged = content[:cd] + entries + bytes(dup) + bytes(end)
    assert len(zipfile.ZipFile(io.BytesIO(forged)).infolist()) == count
    assert _refused_inflating(no_inflating, forged, "证照.ofd").code == "zip_bomb"


def test_too_many_members_is_refused(no_inflating):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr("OFD.xml", "<ofd:OFD/>")
        for i in range(10_001):
            z.writestr(f"r/{i}", b"")
    assert _refused_inflating(no_inflating, buf.getvalue(), "证照.ofd").code == "zip_bomb"


@pytest.mark.parametrize(
    "member", ["../../evil.xml", "/etc/cron.d/x", "Doc_0/../../x", "C:/x.xml", "..\\x.xml"]
)
def test_members_escaping_the_folder_are_refused(member, no_inflating):
    assert _refused_inflating(no_inflating, real_ofd({member: b"<x/>"}), "证照.ofd").code == "zip_bomb"


def test_encrypted_members_are_refused(no_inflating):
    content = _patch_central(real_ofd({"Doc_0/s.xml": b"<s/>"}), b"Doc_0/s.xml", flags=0x1)
    exc = _refused_inflating(no_inflating, content, "证照.ofd")
    assert exc.code == "encrypted" and "加密" in exc.messages[0]


# --- polyglots --------------------------------------------------------------------------------------------


def test_pdf_that_is_also_a_zip_is_refused():
    """A PDF whose tail is a ZIP's comment: it opens as a PDF and as an archive."""
    head, eof = PDF[: PDF.rfind(b"trailer")], PDF[PDF.rfind(b"trailer") :]
    payload = io.BytesIO()
    with zipfile.ZipFile(payload, "w") as z:
        z.writestr("payload.exe", b"MZ" + b"\0" * 100)
        z.comment = eof  # the PDF trailer and %%EOF end the file
    polyglot = head + payload.getvalue()
    assert zipfile.is_zipfile(io.BytesIO(polyglot)) and b"%%EOF" in polyglot[-1024:]
    exc = refused(polyglot, "表格.pdf")
    assert exc.code == "polyglot" and "夹带" in exc.messages[0]


@pytest.mark.parametrize(
    "name, content",
    [
        ("photo.jpg", JPEG + b"<html><script>alert(document.cookie)</script></html>"),
        ("photo.jpg", JPEG[:2] + b"\xff\xfe\x00\x20<script>alert(1)</script>  " + JPEG[2:]),  # in a comment
        ("photo.jpg", JPEG + real_ofd()),  # GIFAR-like: an image with an archive behind it
        ("photo.jpg", JPEG + b"\xff\xd8" + b"X" * 5000),  # a second file after the end marker
        ("scan.png", PNG + b"<svg onload=alert(1)>"),
        ("scan.png", PNG + real_ofd()),
        (
            "scan.png",
            PNG[:33] + b"\x00\x00\x00\x19tEXtc\x00<script>alert(1)</script>" + b"\0\0\0\0" + PNG[33:],
        ),
    ],
)
def test_images_carrying_html_or_archives_are_refused(name, content):
    exc = refused(content, name)
    assert exc.code == "polyglot", exc.code


@pytest.mark.parametrize("action", [b"/S /JavaScript /JS (app.alert(1))", b"/S /Launch /F (cmd.exe)"])
def test_pdf_with_script_or_launch_action_is_refused(action):
    body = PDF.replace(b"/Type /Catalog", b"/Type /Catalog /OpenAction << " + action + b" >>", 1)
    assert body != PDF
    exc = refused(body, "申请书.pdf")
    assert exc.code == "active_content"


# --- names ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, code",
    [
        ("../../etc/passwd.pdf", "bad_name"),
        ("..\\..\\windows\\win.ini.pdf", "bad_name"),
        ("/etc/passwd.pdf", "bad_name"),
        ("申请书\x00.pdf", "bad_name"),
        ("申请书\r\nX-Injected: 1.pdf", "bad_name"),
        ("invoice\u202efdp.exe", "bad_name"),  # shows as "invoiceexe.pdf"
        ("a\u2066b.pdf", "bad_name"),
        ("..", "bad_name"),
        ("x" * 252 + ".pdf", "name_too_long"),
        ("文" * 300 + ".pdf", "name_too_long"),
    ],
)
def test_hostile_names_are_refused(name, code):
    exc = refused(PDF, name)
    assert exc.code == code
    assert "\x00" not in exc.messages[0] and "\u202e" not in exc.messages[0]  # the message is safe to show


@FUZZ
@given(stem=st.text(min_size=0, max_size=300))
def test_any_accepted_name_is_safe_to_store_and_show(stem):
    name = stem + ".pdf"
    try:
        checked = check_stream([PDF], name)
    except UploadRefused as exc:
        assert exc.code in ("bad_name", "name_too_long", "extension_mismatch")
    else:
        os.unlink(checked.temp_path)
        stored = checked.original_name
        assert stored == name and len(stored) <= 255
        assert not re.search(r"[/\\\x00-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069]", stored)


# --- sizes ------------------------------------------------------------------------------------------------


def _chunks(total: int, read: list[int], chunk: int = 64 * 1024) -> Iterator[bytes]:
    first = PDF
    read.append(len(first))
    yield first
    while read[0] < total:
        read[0] += chunk
        yield b"\0" * chunk


def test_huge_declared_size_is_refused_before_reading(settings):
    settings.YIWANG_MAX_UPLOAD_BYTES = 1024 * 1024

    def never() -> Iterator[bytes]:
        raise AssertionError("the body was read")
        yield b""

    with pytest.raises(UploadRefused) as info:
        check_stream(never(), "a.pdf", declared_size=10**12)
    assert info.value.code == "too_large" and "1 MB" in info.value.messages[0]


@FUZZ
@given(total=st.integers(1024 * 1024 + 1, 50 * 1024 * 1024))
def test_huge_actual_size_is_cut_off_at_the_limit(total):
    from django.test import override_settings

    read: list[int] = []
    with override_settings(YIWANG_MAX_UPLOAD_BYTES=1024 * 1024), pytest.raises(UploadRefused) as info:
        check_stream(_chunks(total, read), "a.pdf", declared_size=100)  # the declared size lies
    assert info.value.code == "too_large"
    assert read[0] <= 1024 * 1024 + 64 * 1024  # stopped at the limit, not read to the end


# --- end to end: nothing stored ---------------------------------------------------------------------------

HOSTILE = [
    ("截断.pdf", PDF[: len(PDF) // 2], "不完整"),
    ("截断.png", PNG[:-20], "不完整"),
    ("炸弹.ofd", real_ofd({"x.bin": b"\0" * (20 * 1024 * 1024)}), "压缩炸弹"),
    ("photo.jpg", JPEG + b"<html><script>alert(1)</script>", "夹带"),
]
HOSTILE_NAMES = [("invoice\u202efdp.pdf", PDF, "文字方向控制符"), ("a\x00b.pdf", PDF, "控制字符")]


def _stored_files(root) -> list[str]:
    return [os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs]


@pytest.mark.parametrize(
    "name, content, words", HOSTILE + HOSTILE_NAMES, ids=[h[2] for h in HOSTILE + HOSTILE_NAMES]
)
def test_service_refuses_and_stores_nothing(world, settings, name, content, words):  # noqa: F811
    app = services.start_application(world.applicant, world.item)
    requirement = services.required_materials(app)[0]["name"]
    with pytest.raises(UploadRefused) as info:
        services.upload_material(
            app, requirement=requirement, uploaded=SimpleUploadedFile(name, content), user=world.applicant
        )
    assert words in info.value.messages[0]
    assert not CaseMaterial.objects.exists()
    assert not _stored_files(settings.MEDIA_ROOT)


def test_materials_page_shows_the_error_and_stores_nothing(world, settings, client):  # noqa: F811
    """Through the applicant's page: the multipart parser, the view and the service."""
    from django.urls import reverse

    from tests.workbench.helpers import client_for

    c = client_for(world.applicant)
    app = services.start_application(world.applicant, world.item)
    requirement = services.required_materials(app)[0]["name"]
    url = reverse("portal:apply_materials", args=[app.pk])
    for name, content, words in HOSTILE:
        response = c.post(url, {"requirement": requirement, "file": SimpleUploadedFile(name, content)})
        assert response.status_code == 400 and words in response.content.decode(), (
            name,
            response.status_code,
        )
    assert not CaseMaterial.objects.exists() and not _stored_files(settings.MEDIA_ROOT)
    # Django's multipart parser keeps only the last part of a path and drops characters that are
    # not printable (NUL, the direction controls) before the view sees the name; the file is
    # stored under a name of its hash, never where the name points.
    for hostile, clean in (
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("invoice\u202efdp.pdf", "invoicefdp.pdf"),
    ):
        response = c.post(url, {"requirement": requirement, "file": SimpleUploadedFile(hostile, PDF)})
        assert response.status_code == 302
        material = CaseMaterial.objects.order_by("-pk").first()
        assert material.original_name == clean
        assert material.file.name.startswith("cases/materials/") and ".." not in material.file.name


def test_over_long_names_from_django_are_cut_keeping_the_extension(world):  # noqa: F811
    """Django's UploadedFile cuts a name to 255 characters, keeping its extension, before the
    service sees it; ``check_stream`` refuses a longer name from any other caller (above)."""
    app = services.start_application(world.applicant, world.item)
    requirement = services.required_materials(app)[0]["name"]
    material = services.upload_material(
        app,
        requirement=requirement,
        uploaded=SimpleUploadedFile("长" * 300 + ".pdf", PDF),
        user=world.applicant,
    )
    assert len(material.original_name) == 255 and material.original_name.endswith(".pdf")


def test_an_oversized_body_is_not_kept_while_it_is_read(world, settings, client, monkeypatch):  # noqa: F811
    """The 300 MB upload, scaled down: past YIWANG_MAX_UPLOAD_BYTES the upload handlers stop
    keeping the file (no temporary file grows), the page refuses it as too large next to the
    field, and nothing is stored."""
    import django.core.files.uploadhandler as handlers
    from django.urls import reverse

    from tests.workbench.helpers import client_for

    settings.YIWANG_MAX_UPLOAD_BYTES = settings.YIWANG_MAX_IMPORT_BYTES = 256 * 1024
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024  # larger files would go to a temporary file
    kept = []
    real = handlers.TemporaryFileUploadHandler.receive_data_chunk

    def counting(self, raw_data, start):
        kept.append(len(raw_data))
        return real(self, raw_data, start)

    monkeypatch.setattr(handlers.TemporaryFileUploadHandler, "receive_data_chunk", counting)
    c = client_for(world.applicant)
    app = services.start_application(world.applicant, world.item)
    requirement = services.required_materials(app)[0]["name"]
    url = reverse("portal:apply_materials", args=[app.pk])
    big = PDF[:-6] + b"0" * (3 * 1024 * 1024) + b"%%EOF\n"
    response = c.post(url, {"requirement": requirement, "file": SimpleUploadedFile("big.pdf", big)})
    assert response.status_code == 400
    assert "超过 256 KB 的大小上限" in response.content.decode()
    assert sum(kept) <= 256 * 1024  # the other 2.75 MB were read and dropped, not written
    assert not CaseMaterial.objects.exists() and not _stored_files(settings.MEDIA_ROOT)
