"""PDF actions hidden in compressed streams: an object stream (PDF 1.5, /Type /ObjStm) holds the
document's dictionaries deflated, so "/JavaScript" is not in the file's bytes. qpdf reads them
as a reader does (``cases.sanitize``); bombs and the corpus of hostile files are in
``test_upload_pdf_active.py``. (A dictionary written inline in a page's content stream is not an
action: no reader runs it, and the content is copied as it was.)

The files are real PDFs built here by hand (object stream, cross-reference stream), and pypdf
reads each one back, so the refusals are of documents a reader would open, and the benign one
is a document a reader shows.
"""

from __future__ import annotations

import base64
import io
import os
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.cases.test_upload_fuzz import FUZZ, PDF, _own_tempdir, accepted, refused  # noqa: F401
from yiwang.cases.uploads import UploadRefused, check_stream

PAGE_TEXT = b"BT /F1 12 Tf 72 712 Td (Application form) Tj ET"


def _encode(data: bytes, filters: list[str]) -> bytes:
    """``data`` encoded so that decoding by ``filters`` (in order) gives it back."""
    for f in reversed(filters):
        if f == "FlateDecode":
            data = zlib.compress(data)
        elif f == "ASCIIHexDecode":
            data = data.hex().encode() + b">"
        elif f == "ASCII85Decode":
            data = base64.a85encode(data) + b"~>"
        else:
            data = data  # a filter not encoded here (LZW): the data is never decoded by the check
    return data


def _filter_entry(filters: list[str]) -> bytes:
    if not filters:
        return b""
    if len(filters) == 1:
        return b"/Filter /" + filters[0].encode()
    return b"/Filter [" + b" ".join(b"/" + f.encode() for f in filters) + b"]"


def objstm_pdf(
    *,
    catalog_extra: bytes = b"",
    page_extra: bytes = b"",
    objstm_filters: list[str] | None = None,
    objstm_dict: bytes = b"/Type /ObjStm",
    content: bytes = PAGE_TEXT,
    more_objects: dict[int, bytes] | None = None,
) -> bytes:
    """A one-page PDF 1.5 whose catalog, page tree, page and font (and ``more_objects``) are in
    a compressed object stream, with a deflated content stream and a cross-reference stream."""
    filters = ["FlateDecode"] if objstm_filters is None else objstm_filters
    in_stream = {
        1: b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b">>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 7 0 R >> >> " + page_extra + b">>",
        7: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        **(more_objects or {}),
    }
    numbers = sorted(in_stream)
    bodies, offsets, at = [], [], 0
    for n in numbers:
        offsets.append(at)
        body = in_stream[n] + b"\n"
        bodies.append(body)
        at += len(body)
    header = b" ".join(b"%d %d" % (n, off) for n, off in zip(numbers, offsets, strict=True)) + b"\n"
    objstm_data = _encode(header + b"".join(bodies), filters)

    out = io.BytesIO()
    out.write(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    where: dict[int, int] = {}

    def obj(n: int, dictionary: bytes, data: bytes) -> None:
        where[n] = out.tell()
        out.write(b"%d 0 obj\n<< %s /Length %d >>\nstream\n" % (n, dictionary, len(data)))
        out.write(data + b"\nendstream\nendobj\n")

    obj(4, b"/Filter /FlateDecode", zlib.compress(content))
    obj(
        5,
        b"%s /N %d /First %d %s" % (objstm_dict, len(numbers), len(header), _filter_entry(filters)),
        objstm_data,
    )
    size = max([6, *numbers]) + 1
    rows = []
    for n in range(size):
        if n in where:
            rows.append(b"\x01" + where[n].to_bytes(4, "big") + b"\x00\x00")
        elif n in in_stream:
            rows.append(b"\x02" + (5).to_bytes(4, "big") + numbers.index(n).to_bytes(2, "big"))
        elif n == 6:
            rows.append(b"")  # itself, below
        else:
            rows.append(b"\x00" + b"\x00" * 4 + b"\xff\xff")
    where[6] = out.tell()
    rows[6] = b"\x01" + where[6].to_bytes(4, "big") + b"\x00\x00"
    xref = zlib.compress(b"".join(rows))
    out.write(
        b"6 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Root 1 0 R /Filter /FlateDecode /Length %d >>\n"
        b"stream\n" % (size, len(xref))
    )
    out.write(xref + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % where[6])
    return out.getvalue()


def read_back(content: bytes):
    """pypdf opens the file and finds the catalog in the object stream."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(content), strict=True)
    assert len(reader.pages) == 1
    return reader


JS_ACTION = b"<< /S /JavaScript /JS (app.alert\\(1\\)) >>"
BENIGN = objstm_pdf()


def test_the_built_pdfs_are_real():
    """What the tests below build is what a reader opens: the catalog comes out of the object
    stream, and "/JavaScript" of an action there is nowhere in the file's bytes."""
    assert "Application form" in read_back(BENIGN).pages[0].extract_text()
    hidden = objstm_pdf(catalog_extra=b"/OpenAction " + JS_ACTION)
    reader = read_back(hidden)
    assert reader.trailer["/Root"]["/OpenAction"]["/S"] == "/JavaScript"
    assert b"JavaScript" not in hidden and b"/ObjStm" in hidden


def test_benign_compressed_pdf_is_accepted():
    checked = accepted(BENIGN, "申请书.pdf")
    assert checked.kind == "pdf"
    # a plain /OpenAction (open at a view, as fpdf2 writes) is not an action that runs anything
    view = objstm_pdf(catalog_extra=b"/OpenAction [3 0 R /FitH null]")
    read_back(view)
    assert accepted(view, "a.pdf").kind == "pdf"
    assert accepted(PDF, "fpdf2.pdf").kind == "pdf"  # fpdf2 deflates its content stream


@pytest.mark.parametrize(
    "kw",
    [
        pytest.param({"catalog_extra": b"/OpenAction " + JS_ACTION}, id="open-action-js"),
        pytest.param({"catalog_extra": b"/OpenAction 8 0 R", "more_objects": {8: JS_ACTION}}, id="js-object"),
        pytest.param({"page_extra": b"/AA << /O " + JS_ACTION + b" >>"}, id="page-aa"),
        pytest.param(
            {"catalog_extra": b"/OpenAction << /S /Launch /F (cmd.exe) >>"},
            id="launch",
        ),
        pytest.param(
            {"catalog_extra": b"/OpenAction << /S /Java#53cript /J#53 (app.alert\\(1\\)) >>"},
            id="escaped-names",
        ),
        pytest.param(
            {
                "catalog_extra": b"/Names << /JavaScript << /Names [(a) 8 0 R] >> >>",
                "more_objects": {8: JS_ACTION},
            },
            id="names-tree",
        ),
        pytest.param(
            {
                "catalog_extra": b"/OpenAction " + JS_ACTION,
                "objstm_filters": ["ASCIIHexDecode", "FlateDecode"],
            },
            id="hex-then-flate",
        ),
        pytest.param(
            {
                "catalog_extra": b"/OpenAction " + JS_ACTION,
                "objstm_filters": ["ASCII85Decode", "FlateDecode"],
            },
            id="a85-then-flate",
        ),
        pytest.param(
            {"catalog_extra": b"/OpenAction " + JS_ACTION, "objstm_filters": ["FlateDecode", "FlateDecode"]},
            id="deflated-twice",
        ),
        pytest.param(
            {"page_extra": b"/AA << /C " + JS_ACTION + b" >>", "objstm_filters": []},
            id="object-stream-not-compressed",
        ),
        pytest.param(
            # No /Type: a reader needs only /First to read the objects.
            {"catalog_extra": b"/OpenAction " + JS_ACTION, "objstm_dict": b""},
            id="no-type",
        ),
    ],
)
def test_actions_in_an_object_stream_are_refused(kw):
    content = objstm_pdf(**kw)
    if kw.get("objstm_dict") != b"":  # pypdf insists on /Type /ObjStm; a reader need not
        read_back(content)
    exc = refused(content, "申请书.pdf")
    assert exc.code == "active_content"
    assert exc.messages[0].startswith("文件“申请书.pdf”含有不允许的主动内容：")


def test_escaped_names_in_the_stream_dictionary_are_decoded():
    """/Fl#61teDecode is /FlateDecode: the object stream is still inflated."""
    content = objstm_pdf(catalog_extra=b"/OpenAction " + JS_ACTION)
    at = content.index(b"5 0 obj")
    end = content.index(b"stream", at)
    content = content[:at] + content[at:end].replace(b"/FlateDecode", b"/Fl#61teDecode") + content[end:]
    assert b"/Fl#61teDecode" in content
    assert refused(content).code == "active_content"


def test_a_fake_stream_keyword_does_not_hide_the_next_stream():
    """A "stream" in a comment before the object stream: the object stream is still inflated."""
    content = objstm_pdf(catalog_extra=b"/OpenAction " + JS_ACTION)
    content = content.replace(b"5 0 obj\n", b"% stream\n5 0 obj\n", 1)
    assert refused(content).code == "active_content"


def test_object_stream_in_an_encoding_not_decoded_is_refused():
    for kw in (
        {"objstm_filters": ["LZWDecode"]},
        {"objstm_dict": b"/Type /ObjStm /DecodeParms << /Predictor 12 /Columns 4 >>"},
    ):
        exc = refused(objstm_pdf(**kw), "申请书.pdf")
        assert exc.code == "unreadable", kw
        assert "无法按 PDF 格式读取" in exc.messages[0] and "申请书.pdf" in exc.messages[0]


def _damage_object_stream(content: bytes) -> bytes:
    """The object stream deflated again, flushed to a byte boundary, then a byte no inflater
    takes (0xFF: a last block of the reserved type 3)."""
    start = content.index(b"stream\n", content.index(b"5 0 obj")) + len(b"stream\n")
    end = content.index(b"\nendstream", start)
    deflater = zlib.compressobj()
    data = deflater.compress(zlib.decompress(content[start:end])) + deflater.flush(zlib.Z_SYNC_FLUSH)
    with pytest.raises(zlib.error):
        zlib.decompress(data + b"\xff" * 8)
    return content[:start] + data + b"\xff" * 8 + content[end:]


def test_damaged_compressed_stream_is_never_accepted_with_its_action():
    """Inflating stops at the damage: qpdf loses the objects after it, the catalog among them,
    so the file is refused as unreadable; the action is not accepted either way."""
    damaged = _damage_object_stream(objstm_pdf(catalog_extra=b"/OpenAction " + JS_ACTION))
    assert refused(damaged).code in ("active_content", "unreadable")
    assert refused(_damage_object_stream(objstm_pdf())).code == "unreadable"


FILTERS = st.lists(
    st.sampled_from(["FlateDecode", "ASCIIHexDecode", "ASCII85Decode", "Fl", "AHx"]), max_size=3
)


@FUZZ
@given(noise=st.binary(max_size=512), where=st.integers(0, 2000), filters=FILTERS)
def test_mutated_compressed_pdfs_never_crash_the_check(noise, where, filters):
    """Random bytes spliced into a PDF with an object stream (in any chain of filters): accepted
    or refused with a Chinese message; never another exception, never a temporary file left."""
    content = objstm_pdf(
        objstm_filters=[{"Fl": "FlateDecode", "AHx": "ASCIIHexDecode"}.get(f, f) for f in filters]
    )
    at = min(where, len(content))
    mutated = content[:at] + noise + content[at + len(noise) :]
    try:
        os.unlink(check_stream([mutated], "a.pdf").temp_path)
    except UploadRefused as exc:
        assert exc.code in (
            "bad_type",
            "executable",  # noise starting with MZ, ELF or #! spliced in at the very start
            "truncated",
            "polyglot",
            "active_content",
            "zip_bomb",
            "unreadable",
            "encrypted",
        ), exc.code
