"""Checking and storing uploaded materials: the type is read from the content, never the name.

Accepted: PDF (``%PDF-``), JPEG (``FF D8 FF``), PNG (``89 50 4E 47 0D 0A 1A 0A``) and OFD (the
Chinese fixed-layout format GB/T 33190: a ZIP archive holding ``OFD.xml``). Refused, each with
its own message: empty files, executables (``MZ``, ELF, Mach-O, ``#!`` scripts) whatever their
name, unknown content, a name whose extension says another type, files over
``YIWANG_MAX_UPLOAD_BYTES`` (default 20 MB; counted while streaming, so a huge upload is cut
off at the limit instead of read to the end); names with a path, control or text-direction
characters, or over 255 characters; truncated files (a PDF without ``%%EOF``, a JPEG without its
end marker, a PNG without ``IEND``); polyglots (an image or PDF that is also a ZIP archive, an
image carrying HTML or script, data after an image's end); OFD archives that would inflate too
far (zip bombs, read from the archive's directory only: nothing is inflated), with overlapping,
encrypted or path-escaping members.

A PDF, JPEG or PNG that passes is then **rewritten** (``sanitize``): a separate process with
its own memory and CPU limit parses it with a real parser (qpdf for PDF, Pillow for images),
refuses active content wherever it sits (JavaScript, Launch, embedded files, XFA scripts,
RichMedia), a PDF with a password, one qpdf cannot parse, a decompression bomb, an image of too
many pixels; and writes a copy without actions, metadata or hidden data. The copy is what is
stored and served, so a trick these checks miss still reaches no one. ``sanitize.py`` says
what is kept.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import struct
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable
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
# The rewriting process (sanitize.py): its address space and CPU time. A 20 MB scan or photo
# takes a fraction of either; a decompression bomb reaches the limit and the process dies alone.
DEFAULT_SANITIZE_MEMORY_MB = 1024
DEFAULT_SANITIZE_CPU_SECONDS = 30
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


def _check_structure(kind: str, path: str, size: int, name: str) -> None:
    """Refuse truncated files and polyglots of an accepted kind (active content: ``sanitize``)."""
    truncated = _("文件“%(name)s”不完整（上传中断或文件已损坏），请重新上传完整的文件。")
    polyglot = _("文件“%(name)s”除 %(kind)s 内容外还夹带了其他数据（如压缩包或网页代码），不允许上传。")
    label = kind.upper()
    if kind == "pdf":
        # %%EOF near the end (blanks may follow it).
        if b"%%EOF" not in _tail(path, size):
            raise _refuse(truncated, name, "truncated")
        if _is_zip(path):
            raise _refuse(polyglot, name, "polyglot", kind=label)
        return
    with open(path, "rb") as fh:
        outcome = _walk_jpeg(fh, size) if kind == "jpeg" else _walk_png(fh, size)
    if outcome == "truncated":
        raise _refuse(truncated, name, "truncated")
    if outcome == "polyglot" or _is_zip(path):
        raise _refuse(polyglot, name, "polyglot", kind=label)


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


# --- the rewritten copy -----------------------------------------------------------------------------

_SANITIZER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sanitize.py")


def _finding_labels() -> dict[str, str]:
    return {
        "JavaScript": _("JavaScript 脚本"),
        "Launch": _("启动外部程序的动作（Launch）"),
        "EmbeddedFile": _("嵌入的文件（EmbeddedFile）"),
        "XFA": _("XFA 表单脚本"),
        "RichMedia": _("富媒体（RichMedia、Flash 或 3D）"),
    }


def _setting(name: str, default: int) -> int:
    value = getattr(settings, name, None) or os.environ.get(name)
    return int(value) if value else default


def sanitize(kind: str, path: str, name: str) -> str:
    """Rewrite a PDF, JPEG or PNG (``sanitize.py``, in a process of its own under
    ``YIWANG_SANITIZE_MEMORY_MB`` and ``YIWANG_SANITIZE_CPU_SECONDS``) and return the path of
    the copy, a new temporary file the caller owns; refused with a message naming what was
    found (active content), or why it could not be read. A process that dies, or outlives
    twice its CPU limit, was given a decompression bomb or a file built to exhaust the parser."""
    memory = _setting("YIWANG_SANITIZE_MEMORY_MB", DEFAULT_SANITIZE_MEMORY_MB)
    cpu = _setting("YIWANG_SANITIZE_CPU_SECONDS", DEFAULT_SANITIZE_CPU_SECONDS)
    python = getattr(settings, "YIWANG_SANITIZE_PYTHON", None) or sys.executable
    fd, out = tempfile.mkstemp(prefix="yiwang-clean-")
    os.close(fd)
    ok = False
    try:
        try:
            proc = subprocess.run(
                [python, "-I", _SANITIZER, kind, path, out, str(memory), str(cpu)],
                capture_output=True,
                timeout=2 * cpu + 10,
                check=False,
            )
            lines = proc.stdout.decode("utf-8", "replace").strip().splitlines()
            outcome = json.loads(lines[-1]) if proc.returncode == 0 and lines else {"refused": "bomb"}
        except subprocess.TimeoutExpired:
            outcome = {"refused": "bomb"}
        refusal = outcome.get("refused")
        if refusal == "active_content":
            labels = _finding_labels()
            found = "、".join(labels.get(f, f) for f in outcome.get("found", []))
            raise _refuse(
                _("文件“%(name)s”含有不允许的主动内容：%(found)s，不允许上传。"),
                name,
                "active_content",
                found=found,
            )
        if refusal == "encrypted":
            raise _refuse(_("文件“%(name)s”含有加密内容，无法检查，不允许上传。"), name, "encrypted")
        if refusal == "image_too_large":
            raise _refuse(
                _("文件“%(name)s”的图像过大（%(width)s×%(height)s 像素），请缩小后上传。"),
                name,
                "image_too_large",
                width=str(outcome.get("width")),
                height=str(outcome.get("height")),
            )
        if refusal == "unreadable" or (refusal is None and not outcome.get("ok")):
            raise _refuse(
                _("文件“%(name)s”无法按 %(kind)s 格式读取（文件已损坏或不合规范），请另存为标准格式后上传。"),
                name,
                "unreadable",
                kind=kind.upper(),
            )
        if refusal is not None:
            raise _refuse(
                _("文件“%(name)s”解压后过大或结构异常（疑似压缩炸弹），不允许上传。"), name, "zip_bomb"
            )
        ok = True
        return out
    finally:
        if not ok:
            os.unlink(out)


def _measure(path: str) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while block := fh.read(1024 * 1024):
            size += len(block)
            digest.update(block)
    return size, digest.hexdigest()


def _limit_text(n: int) -> str:
    return f"{n / 1024 / 1024:g} MB" if n >= 1024 * 1024 else f"{n / 1024:g} KB"


def check_stream(
    chunks: Iterable[bytes], original_name: str, *, declared_size: int | None = None
) -> CheckedFile:
    """Stream the upload into a temporary file while counting and hashing, check it and (PDF,
    JPEG, PNG) replace it by its rewritten copy (``sanitize``); ``size`` and ``sha256`` of the
    result are the copy's. The caller owns (and must delete) ``temp_path`` of the result; on
    refusal nothing is left."""
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
        sha256 = digest.hexdigest()
        if kind != "ofd":
            # From here on the file is the rewritten copy: its size and hash are what is stored.
            os.replace(sanitize(kind, temp_path, name), temp_path)
            size, sha256 = _measure(temp_path)
        ok = True
        return CheckedFile(kind, content_type, size, sha256, name, temp_path)
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
