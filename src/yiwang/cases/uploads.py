"""Checking and storing uploaded materials: the type is read from the content, never the name.

Accepted: PDF (``%PDF-``), JPEG (``FF D8 FF``), PNG (``89 50 4E 47 0D 0A 1A 0A``) and OFD (the
Chinese fixed-layout format GB/T 33190: a ZIP archive holding ``OFD.xml``). Refused, each with
its own message: empty files, executables (``MZ``, ELF, Mach-O, ``#!`` scripts) whatever their
name, unknown content, a name whose extension says another type, files over
``YIWANG_MAX_UPLOAD_BYTES`` (default 20 MB; counted while streaming, so a huge upload is cut
off at the limit instead of read to the end); names with a path, control or text-direction
characters, or over 255 characters; truncated files (a PDF without ``%%EOF``, a JPEG without its
end marker, a PNG without ``IEND``); polyglots (an image or PDF that is also a ZIP archive, an
image carrying HTML or script, data after an image's end); PDFs with JavaScript, launch or
additional actions, also when they sit in a compressed object stream or content stream (inflated
within bounds: a PDF that would inflate past them is refused as a bomb); OFD archives that would inflate too far (zip bombs, read from the archive's directory
only: nothing is inflated), with overlapping, encrypted or path-escaping members.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import mmap
import os
import re
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.utils.translation import gettext as _

from yiwang.core.errors import DomainError

DEFAULT_MAX_UPLOAD_BYTES = 20 * 1024 * 1024
KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "pdf": ("application/pdf", (".pdf",)),
    "jpeg": ("image/jpeg", (".jpg", ".jpeg")),
    "png": ("image/png", (".png",)),
    "ofd": ("application/ofd", (".ofd",)),
}
_EXECUTABLE_MAGIC = (b"MZ", b"\x7fELF", b"#!", b"\xcf\xfa\xed\xfe", b"\xfe\xed\xfa\xce", b"\xca\xfe\xba\xbe")
MAX_NAME_CHARS = 255  # CaseMaterial.original_name; a longer name would be cut, maybe its extension
# Inflated size an OFD may declare: a real OFD is XML, fonts and images, rarely past 10x its size.
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
MAX_RATIO = 100  # per member; a deflate bomb reaches about 1000
MAX_MEMBERS = 10_000
TAIL_BYTES = 1024  # where a file's end marker must be (PDF: %%EOF, possibly followed by blanks)
# Markup or script in an image: a browser that sniffs it (or a page that embeds it) would run it.
_MARKUP = re.compile(rb"<\s*(?:script|html|body|iframe|svg|object|embed|meta)\b|javascript:", re.IGNORECASE)
# PDF actions that run something when the document opens.
_PDF_ACTIVE = re.compile(rb"/(?:JavaScript|Launch)\b")
# Inflating a PDF's compressed streams to look inside them: bounded, so a deflate bomb (20 MB of
# zeros inflate to 20 GB) costs at most about a quarter of a second and no memory to speak of.
PDF_MAX_INFLATED_BYTES = 128 * 1024 * 1024  # in all, for one file
PDF_MAX_STREAMS = 20_000  # compressed streams inflated, for one file
_INFLATE_CHUNK = 1024 * 1024
# Path separators, control characters and the Unicode direction controls that make
# "invoice\u202efdp.exe" read as "invoiceexe.pdf".
_BAD_NAME = re.compile(r"[/\\\x00-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def max_upload_bytes() -> int:
    value = getattr(settings, "YIWANG_MAX_UPLOAD_BYTES", None) or os.environ.get("YIWANG_MAX_UPLOAD_BYTES")
    return int(value) if value else DEFAULT_MAX_UPLOAD_BYTES


class UploadRefused(DomainError):
    @property
    def code(self) -> str:
        """Why (``too_large``, ``truncated``, ``polyglot``, ...): docs/cases.md lists them."""
        return self.errors[0].code


@dataclass(frozen=True)
class CheckedFile:
    kind: str
    content_type: str
    size: int
    sha256: str
    original_name: str
    temp_path: str


def sniff(head: bytes, path: str | None = None) -> str | None:
    """The kind of a file from its first bytes (and, for a ZIP, its member list)."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"PK\x03\x04") and path is not None:
        try:
            with zipfile.ZipFile(path) as z:
                names = {n.lstrip("/") for n in z.namelist()}
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, struct.error, NotImplementedError):
            return None
        if "OFD.xml" in names:
            return "ofd"
    return None


def _refuse(message: str, name: str, code: str, **extra: str) -> UploadRefused:
    return UploadRefused(message % {"name": name, **extra}, code=code)


def check_name(original_name: str) -> str:
    """The name as stored and shown (``original_name``); refused if it carries a path, control or
    direction characters, is only dots, or is too long to store whole."""
    name = original_name or ""
    if _BAD_NAME.search(name) or name.strip(". ") == "" and name != "":
        shown = _BAD_NAME.sub("?", name)[:60]
        raise _refuse(
            _("文件名“%(name)s”含有路径、控制字符或文字方向控制符，请改名后上传。"), shown, "bad_name"
        )
    if len(name) > MAX_NAME_CHARS:
        raise _refuse(
            _("文件名“%(name)s…”过长（最多 %(max)s 个字符），请改名后上传。"),
            name[:20],
            "name_too_long",
            max=str(MAX_NAME_CHARS),
        )
    return name


def _tail(path: str, size: int, n: int = TAIL_BYTES) -> bytes:
    with open(path, "rb") as fh:
        fh.seek(max(0, size - n))
        return fh.read()


def _scan(path: str, pattern: re.Pattern[bytes], chunk: int = 1024 * 1024) -> bool:
    """Does ``pattern`` occur in the file? Read in overlapping chunks, never whole."""
    overlap = 64
    with open(path, "rb") as fh:
        previous = b""
        while block := fh.read(chunk):
            if pattern.search(previous + block):
                return True
            previous = block[-overlap:]
    return False


def _check_structure(kind: str, path: str, size: int, name: str) -> None:
    """Refuse truncated files, polyglots and active content of an accepted kind."""
    truncated = _("文件“%(name)s”不完整（上传中断或文件已损坏），请重新上传完整的文件。")
    polyglot = _("文件“%(name)s”除 %(kind)s 内容外还夹带了其他数据（如压缩包或网页代码），不允许上传。")
    label = kind.upper()
    if kind == "pdf":
        # %%EOF near the end (blanks may follow it).
        if b"%%EOF" not in _tail(path, size):
            raise _refuse(truncated, name, "truncated")
        if _is_zip(path):
            raise _refuse(polyglot, name, "polyglot", kind=label)
        # Long names only: a short one (/JS) turns up by chance in megabytes of compressed data.
        verdict = "active" if _scan(path, _PDF_ACTIVE) else _pdf_streams_verdict(path)
        if verdict == "active":
            raise _refuse(_("文件“%(name)s”含有脚本或自动执行的动作，不允许上传。"), name, "active_content")
        if verdict == "bomb":
            raise _refuse(
                _("文件“%(name)s”解压后过大或结构异常（疑似压缩炸弹），不允许上传。"), name, "zip_bomb"
            )
        if verdict == "unreadable":
            raise _refuse(
                _("文件“%(name)s”含有无法检查的压缩编码，不允许上传，请另存为普通 PDF 后上传。"),
                name,
                "unreadable",
            )
        return
    with open(path, "rb") as fh:
        outcome = _walk_jpeg(fh, size) if kind == "jpeg" else _walk_png(fh, size)
    if outcome == "truncated":
        raise _refuse(truncated, name, "truncated")
    if outcome == "polyglot" or _is_zip(path):
        raise _refuse(polyglot, name, "polyglot", kind=label)


# --- PDF: actions inside compressed streams ---------------------------------------------------------
#
# Since PDF 1.5 the objects of a document may sit in an object stream (/Type /ObjStm, usually
# FlateDecode), and a page's drawing in a compressed content stream: the whole-file scan above
# sees neither. Every stream is found by its keyword, its dictionary read back to "N 0 obj", and
# its data decoded (FlateDecode, ASCIIHexDecode, ASCII85Decode, chained) chunk by chunk, so no
# more than about a megabyte is held at a time and the total is bounded.

# What ends a PDF name: white space and the delimiters (ISO 32000-1, 7.2.2).
_NAME_END = rb"\x00\t\n\x0c\r ()<>\[\]{}/%"
# In dictionary syntax (between streams, and the objects of an object stream) every action key
# counts, short ones too: /JS (script), /AA (actions run on opening a page, a field...). In data
# of any other kind (page content, embedded files), long names only, as in the whole-file scan.
_PDF_KEYS = re.compile(rb"/(?:JavaScript|JS|Launch|AA)(?![^" + _NAME_END + rb"])")
_PDF_LONG_KEYS = re.compile(rb"/(?:JavaScript|Launch)(?![^" + _NAME_END + rb"])")
# A name spelt with #hh escapes (/Java#53cript is /JavaScript) is decoded before it is compared.
_ESCAPED_NAME = re.compile(rb"/[^" + _NAME_END + rb"]*#[0-9A-Fa-f]{2}[^" + _NAME_END + rb"]*")
_HEX_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_PDF_KEY_NAMES = {b"JavaScript", b"JS", b"Launch", b"AA"}
_PDF_LONG_NAMES = {b"JavaScript", b"Launch"}
_STREAM_KEYWORD = re.compile(rb"(?<![A-Za-z])stream(?:\r\n|\n|\r)")
_DICT_WINDOW = 64 * 1024  # how far back from "stream" its dictionary is looked for
# A reader needs /First to read the objects of an object stream, whatever its /Type says.
_OBJECT_STREAM = re.compile(rb"/Type\s*/ObjStm\b|/First\b")
# Images, fonts and cross-reference streams: binary data that carries no action.
_BINARY_STREAM = re.compile(
    rb"/Subtype\s*/(?:Image|Type1C|CIDFontType0C|OpenType)\b|/Length[123]\b|/Type\s*/XRef\b"
)
_FILTER = re.compile(rb"/Filter\s*(\[[^\]]*\]|/[^" + _NAME_END + rb"]+)")
_FILTER_NAME = re.compile(rb"/([^" + _NAME_END + rb"]+)")
_DECODERS = {
    b"FlateDecode": "flate",
    b"Fl": "flate",
    b"ASCIIHexDecode": "hex",
    b"AHx": "hex",
    b"ASCII85Decode": "a85",
    b"A85": "a85",
}
_PREDICTOR = re.compile(rb"/Predictor\s*(\d+)")
_READ_PIECE = 64 * 1024  # compressed input handed to zlib at a time


class _PdfBomb(Exception):
    """The bounds on inflating were reached."""


class _InflateBudget:
    def __init__(self) -> None:
        self.bytes_left = PDF_MAX_INFLATED_BYTES
        self.streams_left = PDF_MAX_STREAMS

    def stream(self) -> None:
        self.streams_left -= 1
        if self.streams_left < 0:
            raise _PdfBomb

    def spend(self, n: int) -> None:
        self.bytes_left -= n
        if self.bytes_left < 0:
            raise _PdfBomb


def _unescape_names(text: bytes) -> bytes:
    return _HEX_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), text) if b"#" in text else text


def _has_action(data: bytes, *, every_key: bool) -> bool:
    pattern, names = (_PDF_KEYS, _PDF_KEY_NAMES) if every_key else (_PDF_LONG_KEYS, _PDF_LONG_NAMES)
    if pattern.search(data):
        return True
    return any(_unescape_names(m.group())[1:] in names for m in _ESCAPED_NAME.finditer(data))


def _scan_chunks(chunks: Iterable[bytes], *, every_key: bool) -> bool:
    previous = b""
    for chunk in chunks:
        if _has_action(previous + chunk, every_key=every_key):
            return True
        previous = chunk[-64:]  # the longest escaped key is 31 bytes
    return False


def _pieces(mm: mmap.mmap, start: int, end: int, size: int = _READ_PIECE) -> Iterator[bytes]:
    for at in range(start, end, size):
        yield mm[at : min(at + size, end)]


def _inflate(chunks: Iterable[bytes], budget: _InflateBudget) -> Iterator[bytes]:
    inflater = zlib.decompressobj()
    for piece in chunks:
        before = inflater.copy()
        given = 0
        try:
            for out in _drain(inflater, piece):
                given += len(out)
                budget.spend(len(out))
                yield out
        except zlib.error:
            # Readers show what inflates before the damage, so that much is checked too: zlib
            # drops the output of the call that failed, so the piece is given again, from a copy,
            # a little at a time.
            yield from _salvage(before, piece, given, budget)
            return
        if inflater.eof:
            return


def _drain(inflater, data: bytes) -> Iterator[bytes]:
    while not inflater.eof:
        out = inflater.decompress(data, _INFLATE_CHUNK)
        data = inflater.unconsumed_tail
        if not out:
            return
        yield out


def _salvage(inflater, piece: bytes, skip: int, budget: _InflateBudget) -> Iterator[bytes]:
    """What ``piece`` inflates to before the damage, less the ``skip`` bytes already given."""
    try:
        for at in range(0, len(piece), 64):
            for out in _drain(inflater, piece[at : at + 64]):
                out, skip = out[skip:], max(0, skip - len(out))
                if out:
                    budget.spend(len(out))
                    yield out
    except zlib.error:
        return


def _unhex(chunks: Iterable[bytes], budget: _InflateBudget) -> Iterator[bytes]:
    odd = b""
    for piece in chunks:
        end = piece.find(b">")
        digits = odd + re.sub(rb"[^0-9A-Fa-f]", b"", piece if end < 0 else piece[:end])
        odd, digits = (digits[-1:], digits[:-1]) if len(digits) % 2 else (b"", digits)
        yield binascii.unhexlify(digits)
        if end >= 0:
            break
    if odd:
        yield binascii.unhexlify(odd + b"0")  # a last odd digit is followed by an implied 0


def _un85(chunks: Iterable[bytes], budget: _InflateBudget) -> Iterator[bytes]:
    # Held whole: it shrinks what it reads, and what it reads is bounded (the file, or inflated
    # bytes the budget has counted).
    text = b"".join(chunks)
    end = text.find(b"~>")
    text = text[: end if end >= 0 else len(text)].removeprefix(b"<~")
    try:
        yield base64.a85decode(text, ignorechars=b" \t\n\r\x0b\x0c\x00")
    except ValueError:
        return


_STAGES = {"flate": _inflate, "hex": _unhex, "a85": _un85}


def _filters_of(head: bytes) -> list[str] | None:
    """The decoders the dictionary names, in order ([] for none); None if one is unknown."""
    m = _FILTER.search(head)
    if m is None:
        return []
    names = [n for n in _FILTER_NAME.findall(m.group(1))]
    if not all(n in _DECODERS for n in names):
        return None
    return [_DECODERS[n] for n in names]


def _looks_deflated(first: bytes) -> bool:
    return len(first) >= 2 and first[0] & 0x0F == 8 and (first[0] << 8 | first[1]) % 31 == 0


def _stream_verdict(head: bytes, mm: mmap.mmap, start: int, end: int, budget: _InflateBudget) -> str | None:
    object_stream = bool(_OBJECT_STREAM.search(head))
    if not object_stream and _BINARY_STREAM.search(head):
        return None
    filters = _filters_of(head)
    predictor = _PREDICTOR.search(head)
    if filters is None or (object_stream and predictor is not None and int(predictor[1]) > 1):
        # The objects of an object stream we cannot decode cannot be checked; other data of a kind
        # we cannot decode is not read by anyone as objects.
        return "unreadable" if object_stream else None
    if not filters and _looks_deflated(mm[start : start + 2]):
        filters = ["flate"]  # no /Filter we could find (a padded dictionary), but zlib data
    if not filters and not object_stream:
        return None  # plain data: the whole-file scan has read it
    if filters:
        budget.stream()
    chunks: Iterable[bytes] = _pieces(mm, start, end)
    for f in filters:
        chunks = _STAGES[f](chunks, budget)
    return "active" if _scan_chunks(chunks, every_key=object_stream) else None


def _pdf_streams_verdict(path: str) -> str | None:
    """ "active" if an action key is found in the PDF's dictionaries or in what its streams decode
    to, "bomb" if decoding passes the bounds, "unreadable" for an object stream in an encoding
    not decoded here, None otherwise.

    Every "stream" keyword is looked at, each on its own: a fake one (in a comment or a string)
    cannot hide the real stream after it, it only makes more data to decode, which the bounds
    limit. The text outside the streams' data is dictionary syntax, read for every key."""
    budget = _InflateBudget()
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        size = len(mm)
        spans: list[tuple[int, int]] = []
        try:
            for m in _STREAM_KEYWORD.finditer(mm):
                start = m.end()
                end = mm.find(b"endstream", start)
                end = size if end < 0 else end
                spans.append((start, end))
                lo = max(0, m.start() - _DICT_WINDOW)
                obj = mm.rfind(b"obj", lo, m.start())
                head = _unescape_names(mm[obj + 3 if obj >= 0 else lo : m.start()])
                verdict = _stream_verdict(head, mm, start, end, budget)
                if verdict:
                    return verdict
        except _PdfBomb:
            return "bomb"
        at = 0
        for start, end in sorted(spans):
            if start > at and _scan_chunks(_pieces(mm, at, start, _INFLATE_CHUNK), every_key=True):
                return "active"
            at = max(at, end)
        if at < size and _scan_chunks(_pieces(mm, at, size, _INFLATE_CHUNK), every_key=True):
            return "active"
    return None


def _walk_jpeg(fh, size: int) -> str:
    """Walk the segments up to the scan (their lengths must hold), looking for markup in comments
    and application segments (where a JPEG+HTML polyglot hides its page); then the image must end
    with the end-of-image marker, followed at most by zeros (some cameras pad)."""
    pos = 2
    while True:
        fh.seek(pos)
        header = fh.read(4)
        if len(header) < 4 or header[0] != 0xFF:
            return "truncated"
        marker = header[1]
        if marker == 0xD9:
            return "truncated"  # end of image before any scan
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            pos += 2
            continue
        length = int.from_bytes(header[2:4], "big")
        if length < 2 or pos + 2 + length > size:
            return "truncated"
        if (marker == 0xFE or 0xE0 <= marker <= 0xEF) and _MARKUP.search(fh.read(length - 2)):
            return "polyglot"
        if marker == 0xDA:
            break  # start of scan: entropy-coded data until the end marker
        pos += 2 + length
    if _tail_of(fh, size).rstrip(b"\x00").endswith(b"\xff\xd9"):
        return "ok"
    # An end marker earlier in the scan data means something rides along after the image.
    fh.seek(pos)
    previous = b""
    while block := fh.read(1024 * 1024):
        if b"\xff\xd9" in previous + block:
            return "polyglot"
        previous = block[-1:]
    return "truncated"


def _walk_png(fh, size: int) -> str:
    """Walk every chunk (length, type, data, CRC) to IEND, which must be the end of the file;
    text chunks must not carry markup."""
    pos = 8
    while True:
        fh.seek(pos)
        header = fh.read(8)
        if len(header) < 8:
            return "truncated"
        length = int.from_bytes(header[:4], "big")
        ctype = header[4:8]
        if pos + 12 + length > size:
            return "truncated"
        if ctype in (b"tEXt", b"zTXt", b"iTXt") and _MARKUP.search(fh.read(length)):
            return "polyglot"
        pos += 12 + length
        if ctype == b"IEND":
            return "ok" if pos == size else "polyglot"


def _tail_of(fh, size: int, n: int = TAIL_BYTES) -> bytes:
    fh.seek(max(0, size - n))
    return fh.read()


def _is_zip(path: str) -> bool:
    """An end-of-central-directory record anywhere in the last 64 KiB (where ZIP readers look for
    it), so the file also opens as an archive (PDF+ZIP, GIFAR-like JPEG+JAR)."""
    try:
        return zipfile.is_zipfile(path)
    except OSError:
        return False


def check_archive(path: str, size: int, name: str) -> None:
    """An OFD (ZIP) judged from its central directory alone: nothing is inflated. Refused: more
    than MAX_MEMBERS members, a declared inflated size over MAX_UNPACKED_BYTES or a member
    compressed more than MAX_RATIO times (zip bombs), members whose data overlap (the
    overlapping-file bomb, where many entries inflate the same bytes), encrypted members, and
    member names that would escape the folder they are extracted to."""
    bomb = _("文件“%(name)s”解压后过大或结构异常（疑似压缩炸弹），不允许上传。")
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, struct.error):
        raise _refuse(_("文件“%(name)s”的内容不是 PDF、JPEG、PNG 或 OFD 文件。"), name, "bad_type") from None
    if len(infos) > MAX_MEMBERS or sum(i.file_size for i in infos) > MAX_UNPACKED_BYTES:
        raise _refuse(bomb, name, "zip_bomb")
    spans = []
    for i in infos:
        if i.file_size > MAX_RATIO * max(i.compress_size, 1) and i.file_size > 1024 * 1024:
            raise _refuse(bomb, name, "zip_bomb")
        if i.flag_bits & 0x1:
            raise _refuse(_("文件“%(name)s”含有加密内容，无法检查，不允许上传。"), name, "encrypted")
        parts = i.filename.replace("\\", "/").split("/")
        if i.filename.startswith(("/", "\\")) or ".." in parts or ":" in parts[0]:
            raise _refuse(bomb, name, "zip_bomb")
        # Local header (30 bytes + name + extra, at most) then the compressed data.
        spans.append(
            (i.header_offset, i.header_offset + 30 + len(i.orig_filename.encode()) + i.compress_size)
        )
    spans.sort()
    for (start, end), (next_start, _next_end) in zip(spans, spans[1:], strict=False):
        if next_start < end or next_start == start:
            raise _refuse(bomb, name, "zip_bomb")
    if spans and spans[-1][1] > size:
        raise _refuse(bomb, name, "zip_bomb")


def _limit_text(n: int) -> str:
    return f"{n / 1024 / 1024:g} MB" if n >= 1024 * 1024 else f"{n / 1024:g} KB"


def check_stream(
    chunks: Iterable[bytes], original_name: str, *, declared_size: int | None = None
) -> CheckedFile:
    """Stream the upload into a temporary file while counting and hashing, then check it.
    The caller owns (and must delete) ``temp_path`` of the result; on refusal nothing is left."""
    limit = max_upload_bytes()
    name = check_name(original_name)
    if declared_size is not None and declared_size > limit:
        raise UploadRefused(
            _("文件“%(name)s”超过 %(mb)s 的大小上限。") % {"name": name, "mb": _limit_text(limit)},
            code="too_large",
        )
    fd, temp_path = tempfile.mkstemp(prefix="yiwang-upload-")
    ok = False
    try:
        digest = hashlib.sha256()
        size = 0
        head = b""
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise UploadRefused(
                        _("文件“%(name)s”超过 %(mb)s 的大小上限。")
                        % {"name": name, "mb": _limit_text(limit)},
                        code="too_large",
                    )
                if len(head) < 16:
                    head += chunk[: 16 - len(head)]
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise UploadRefused(_("文件“%(name)s”是空文件。") % {"name": name}, code="empty")
        if head.startswith(_EXECUTABLE_MAGIC):
            raise UploadRefused(
                _("文件“%(name)s”是可执行程序或脚本，不允许上传。") % {"name": name}, code="executable"
            )
        kind = sniff(head, temp_path)
        if kind is None:
            raise UploadRefused(
                _("文件“%(name)s”的内容不是 PDF、JPEG、PNG 或 OFD 文件。") % {"name": name}, code="bad_type"
            )
        if kind == "ofd":
            check_archive(temp_path, size, name)
        else:
            _check_structure(kind, temp_path, size, name)
        content_type, extensions = KINDS[kind]
        ext = PurePath(name).suffix.lower()
        if ext not in extensions:
            raise UploadRefused(
                _("文件“%(name)s”的扩展名与内容不符：内容是 %(kind)s 文件，应以 %(ext)s 结尾。")
                % {"name": name, "kind": kind.upper(), "ext": " 或 ".join(extensions)},
                code="extension_mismatch",
            )
        ok = True
        return CheckedFile(kind, content_type, size, digest.hexdigest(), name, temp_path)
    finally:
        if not ok:
            os.unlink(temp_path)


def store(checked: CheckedFile, directory: str) -> str:
    """Save the checked temporary file to the default storage; returns the stored name."""
    suffix = KINDS[checked.kind][1][0]
    with open(checked.temp_path, "rb") as fh:
        return default_storage.save(f"{directory}/{checked.sha256[:16]}{suffix}", File(fh))


class SizeLimitUploadHandler(FileUploadHandler):
    """First of ``FILE_UPLOAD_HANDLERS``: a file past ``YIWANG_MAX_UPLOAD_BYTES`` is no longer
    written anywhere while the rest of the request body is read; the view receives an empty
    stand-in that carries the counted size, so ``check_stream`` refuses it as ``too_large`` with
    the usual message next to the field (instead of a 300 MB temporary file, or a reset
    connection the person cannot understand)."""

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0
        self.over = False
        # The largest any upload page takes: materials, or a catalogue spreadsheet (its own
        # limit, checked by the import); each page refuses what is over its own.
        self.limit = max(max_upload_bytes(), int(getattr(settings, "YIWANG_MAX_IMPORT_BYTES", 0) or 0))

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        if self.received > self.limit:
            if not self.over:
                self.over = True
                self._drop_partial_files()
            return None  # the handlers after this one (memory, temporary file) stop receiving
        return raw_data

    def _drop_partial_files(self) -> None:
        """The temporary file a later handler began for this upload is closed, which deletes it."""
        for handler in getattr(self.request, "upload_handlers", []):
            partial = getattr(handler, "file", None)
            if handler is not self and hasattr(partial, "temporary_file_path"):
                partial.close()

    def file_complete(self, file_size: int):
        if not self.over:
            return None  # the next handler hands over the file it kept
        stand_in = SimpleUploadedFile(self.file_name, b"", content_type=self.content_type)
        stand_in.size = self.received
        return stand_in
