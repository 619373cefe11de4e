"""Hand-built PDFs for the upload tests: a one-page document whose dictionaries sit either in the
body with a classic cross-reference table, or (``packed``) in a compressed object stream with a
cross-reference stream (PDF 1.5), and a corpus of hostile variants: each carries one kind of
active content in one place a reader looks.

qpdf reads every file built here back (``tests/cases/test_upload_pdf_active.py`` checks it), so a
refusal is of a document a reader would open.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

PAGE_TEXT = b"BT /F1 12 Tf 72 712 Td (Application form) Tj ET"
JS = b"<< /S /JavaScript /JS (app.alert\\(1\\)) >>"


def hex_encode(data: bytes) -> bytes:
    return data.hex().encode() + b">"


@dataclass
class Parts:
    """What goes into a document beyond its catalog (1), page tree (2), page (3), content (4)
    and font (5). Extra objects are numbered from 10."""

    catalog_extra: bytes = b""
    page_extra: bytes = b""
    objects: dict[int, bytes] = field(default_factory=dict)  # dictionaries (packable)
    streams: dict[int, tuple[bytes, bytes]] = field(default_factory=dict)  # (dictionary, data)
    plain: dict[int, bytes] = field(default_factory=dict)  # never packed (e.g. a filter name)
    catalog_type: bytes = b"/Type /Catalog "  # readers find the catalog from the trailer without it


def build(
    parts: Parts | None = None,
    *,
    packed: bool = False,
    objstm_filter: bytes = b"/Filter /FlateDecode",
    objstm_encode: Callable[[bytes], bytes] = zlib.compress,
    objstm_eol: bytes = b"\n",
    version: bytes = b"1.5",
) -> bytes:
    parts = parts or Parts()
    dictionaries = {
        1: b"<< " + parts.catalog_type + b"/Pages 2 0 R " + parts.catalog_extra + b">>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> " + parts.page_extra + b">>",
        5: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        **parts.objects,
    }
    streams = {4: (b"/Filter /FlateDecode", zlib.compress(PAGE_TEXT)), **parts.streams}
    out = io.BytesIO()
    out.write(b"%PDF-" + version + b"\n%\xe2\xe3\xcf\xd3\n")
    where: dict[int, int] = {}

    def plain_object(n: int, body: bytes) -> None:
        where[n] = out.tell()
        out.write(b"%d 0 obj\n%s\nendobj\n" % (n, body))

    def stream_object(n: int, dictionary: bytes, data: bytes, eol: bytes = b"\n") -> None:
        where[n] = out.tell()
        out.write(b"%d 0 obj\n<< %s /Length %d >>\nstream%s" % (n, dictionary, len(data), eol))
        out.write(data + b"\nendstream\nendobj\n")

    for n, (dictionary, data) in sorted(streams.items()):
        stream_object(n, dictionary, data)
    for n, body in sorted(parts.plain.items()):
        plain_object(n, body)
    if not packed:
        for n, body in sorted(dictionaries.items()):
            plain_object(n, body)
        size = max(where) + 1
        xref = out.tell()
        out.write(b"xref\n0 %d\n" % size)
        for n in range(size):
            out.write(b"%010d 00000 n \n" % where[n] if n in where else b"0000000000 65535 f \n")
        out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref))
        return out.getvalue()

    numbers = sorted(dictionaries)
    bodies, offsets, at = [], [], 0
    for n in numbers:
        offsets.append(at)
        body = dictionaries[n] + b"\n"
        bodies.append(body)
        at += len(body)
    header = b" ".join(b"%d %d" % pair for pair in zip(numbers, offsets, strict=True)) + b"\n"
    objstm, xref_n = 6, 7
    stream_object(
        objstm,
        b"/Type /ObjStm /N %d /First %d %s" % (len(numbers), len(header), objstm_filter),
        objstm_encode(header + b"".join(bodies)),
        eol=objstm_eol,
    )
    size = max([xref_n, *numbers, *where]) + 1
    rows = []
    for n in range(size):
        if n in where:
            rows.append(b"\x01" + where[n].to_bytes(4, "big") + b"\x00\x00")
        elif n in dictionaries:
            rows.append(b"\x02" + objstm.to_bytes(4, "big") + numbers.index(n).to_bytes(2, "big"))
        elif n == xref_n:
            rows.append(b"")  # itself, below
        else:
            rows.append(b"\x00" * 5 + b"\xff\xff")
    where[xref_n] = out.tell()
    rows[xref_n] = b"\x01" + where[xref_n].to_bytes(4, "big") + b"\x00\x00"
    data = zlib.compress(b"".join(rows))
    out.write(
        b"%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Root 1 0 R /Filter /FlateDecode /Length %d >>\n"
        b"stream\n" % (xref_n, size, len(data))
    )
    out.write(data + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % where[xref_n])
    return out.getvalue()


# --- the probe's four files -------------------------------------------------------------------------

OPEN_JS = Parts(catalog_extra=b"/OpenAction " + JS)

PROBE = {
    # (a) the object stream's /Filter is an indirect reference to /ASCIIHexDecode
    "indirect-filter": build(
        Parts(catalog_extra=b"/OpenAction " + JS, plain={8: b"/ASCIIHexDecode"}),
        packed=True,
        objstm_filter=b"/Filter 8 0 R",
        objstm_encode=hex_encode,
    ),
    # (b) an extra key ending in "obj" in the object stream's dictionary, after /Type and /First
    "xobj-key": build(
        Parts(catalog_extra=b"/OpenAction << /S /Rendition /JS (app.alert\\(1\\)) >>"),
        packed=True,
        objstm_filter=b"/Xobj 0 /Filter /FlateDecode",
    ),
    # (c) a space between "stream" and the line break
    "space-after-stream": build(OPEN_JS, packed=True, objstm_eol=b" \n"),
    # (d) an XFA form with a script
    "xfa-script": build(
        Parts(
            catalog_extra=b"/AcroForm << /Fields [] /XFA 10 0 R >>",
            streams={
                10: (
                    b"",
                    b'<xdp:xdp xmlns:xdp="http://ns.adobe.com/xdp/"><template><subform>'
                    b'<event activity="initialize"><script contentType="application/x-javascript">'
                    b"app.alert(1)</script></event></subform></template></xdp:xdp>",
                )
            },
        )
    ),
}


# --- the corpus: (id, parts, what the refusal must name) ---------------------------------------------

LINK = b"<< /Type /Annot /Subtype /Link /Rect [0 0 100 100] /A %s >>"
FILESPEC = b"<< /Type /Filespec /F (x.exe) /UF (x.exe) /EF << /F 11 0 R >> >>"
EMBEDDED = (b"/Type /EmbeddedFile", b"MZ payload")
XFA_SCRIPT = b"<template><subform><script>xfa.host.messageBox('x')</script></subform></template>"

CORPUS: list[tuple[str, Parts, str]] = [
    ("open-action-js", Parts(catalog_extra=b"/OpenAction " + JS), "JavaScript"),
    ("open-action-indirect", Parts(catalog_extra=b"/OpenAction 10 0 R", objects={10: JS}), "JavaScript"),
    (
        "js-in-a-stream",
        Parts(
            catalog_extra=b"/OpenAction << /S /JavaScript /JS 10 0 R >>", streams={10: (b"", b"app.alert(1)")}
        ),
        "JavaScript",
    ),
    (
        "names-tree",
        Parts(catalog_extra=b"/Names << /JavaScript << /Names [(a) 10 0 R] >> >>", objects={10: JS}),
        "JavaScript",
    ),
    (
        "names-tree-catalog-without-type",
        Parts(
            catalog_type=b"",
            catalog_extra=b"/Names << /JavaScript << /Names [(a) 10 0 R] >> >>",
            objects={10: JS},
        ),
        "JavaScript",
    ),
    ("page-open", Parts(page_extra=b"/AA << /O " + JS + b" >>"), "JavaScript"),
    ("link", Parts(page_extra=b"/Annots [10 0 R]", objects={10: LINK % JS}), "JavaScript"),
    (
        "form-field-keystroke",
        Parts(
            catalog_extra=b"/AcroForm << /Fields [10 0 R] >>",
            page_extra=b"/Annots [10 0 R]",
            objects={
                10: b"<< /Type /Annot /Subtype /Widget /FT /Tx /T (a) /Rect [0 0 9 9] /AA << /K "
                + JS
                + b" >> >>"
            },
        ),
        "JavaScript",
    ),
    (
        "outline",
        Parts(
            catalog_extra=b"/Outlines 10 0 R",
            objects={
                10: b"<< /Type /Outlines /First 11 0 R /Last 11 0 R /Count 1 >>",
                11: b"<< /Title (a) /Parent 10 0 R /A " + JS + b" >>",
            },
        ),
        "JavaScript",
    ),
    (
        "next-chain",
        Parts(catalog_extra=b"/OpenAction << /S /GoTo /D [3 0 R /Fit] /Next [10 0 R] >>", objects={10: JS}),
        "JavaScript",
    ),
    ("orphan-object", Parts(objects={10: JS}), "JavaScript"),
    (
        "escaped-names",
        Parts(catalog_extra=b"/OpenAction << /S /Java#53cript /J#53 (app.alert\\(1\\)) >>"),
        "JavaScript",
    ),
    (
        "rendition",
        Parts(catalog_extra=b"/OpenAction << /S /Rendition /JS (app.alert\\(1\\)) >>"),
        "JavaScript",
    ),
    (
        "3d-on-instantiate",
        Parts(objects={10: b"<< /Type /3DView /OnInstantiate (x) >>"}),
        "JavaScript",
    ),
    ("launch", Parts(catalog_extra=b"/OpenAction << /S /Launch /F (cmd.exe) >>"), "Launch"),
    (
        "launch-in-link",
        Parts(
            page_extra=b"/Annots [10 0 R]",
            objects={10: LINK % b"<< /S /Launch /Win << /F (calc.exe) >> >>"},
        ),
        "Launch",
    ),
    (
        "embedded-files-tree",
        Parts(
            catalog_extra=b"/Names << /EmbeddedFiles << /Names [(x.exe) 10 0 R] >> >>",
            objects={10: FILESPEC},
            streams={11: EMBEDDED},
        ),
        "EmbeddedFile",
    ),
    (
        "file-attachment",
        Parts(
            page_extra=b"/Annots [10 0 R]",
            objects={
                10: b"<< /Type /Annot /Subtype /FileAttachment /Rect [0 0 9 9] /FS 12 0 R >>",
                12: FILESPEC,
            },
            streams={11: EMBEDDED},
        ),
        "EmbeddedFile",
    ),
    (
        "goto-embedded",
        Parts(catalog_extra=b"/OpenAction << /S /GoToE /T << /R /C /N (x.pdf) >> >>"),
        "EmbeddedFile",
    ),
    ("orphan-embedded-file", Parts(streams={11: EMBEDDED}), "EmbeddedFile"),
    ("portfolio", Parts(catalog_extra=b"/Collection << /Type /Collection /View /D >>"), "EmbeddedFile"),
    (
        "xfa-array",
        Parts(
            catalog_extra=b"/AcroForm << /Fields [] /XFA [(template) 10 0 R] >>",
            streams={10: (b"", XFA_SCRIPT)},
        ),
        "XFA",
    ),
    (
        "xfa-deflated",
        Parts(
            catalog_extra=b"/AcroForm << /Fields [] /XFA 10 0 R >>",
            streams={10: (b"/Filter /FlateDecode", zlib.compress(XFA_SCRIPT))},
        ),
        "XFA",
    ),
    (
        "rich-media",
        Parts(
            page_extra=b"/Annots [10 0 R]",
            objects={10: b"<< /Type /Annot /Subtype /RichMedia /Rect [0 0 9 9] /RichMediaContent << >> >>"},
        ),
        "RichMedia",
    ),
    (
        "rich-media-execute",
        Parts(catalog_extra=b"/OpenAction << /S /RichMediaExecute /TA 3 0 R /TI << >> >>"),
        "RichMedia",
    ),
    (
        "3d-annotation",
        Parts(
            page_extra=b"/Annots [10 0 R]", objects={10: b"<< /Type /Annot /Subtype /3D /Rect [0 0 9 9] >>"}
        ),
        "RichMedia",
    ),
]
