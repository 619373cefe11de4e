"""Checking and storing uploaded materials: the type is read from the content, never the name.

Accepted: PDF (``%PDF-``), JPEG (``FF D8 FF``), PNG (``89 50 4E 47 0D 0A 1A 0A``) and OFD (the
Chinese fixed-layout format GB/T 33190: a ZIP archive holding ``OFD.xml``). Refused, each with
its own message: empty files, executables (``MZ``, ELF, Mach-O, ``#!`` scripts) whatever their
name, unknown content, a name whose extension says another type, files over
``YIWANG_MAX_UPLOAD_BYTES`` (default 20 MB; counted while streaming, so a huge upload is cut
off at the limit instead of read to the end).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
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


def max_upload_bytes() -> int:
    value = getattr(settings, "YIWANG_MAX_UPLOAD_BYTES", None) or os.environ.get("YIWANG_MAX_UPLOAD_BYTES")
    return int(value) if value else DEFAULT_MAX_UPLOAD_BYTES


class UploadRefused(DomainError):
    pass


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
        except zipfile.BadZipFile:
            return None
        if "OFD.xml" in names:
            return "ofd"
    return None


def _limit_text(n: int) -> str:
    return f"{n / 1024 / 1024:g} MB" if n >= 1024 * 1024 else f"{n / 1024:g} KB"


def check_stream(
    chunks: Iterable[bytes], original_name: str, *, declared_size: int | None = None
) -> CheckedFile:
    """Stream the upload into a temporary file while counting and hashing, then check it.
    The caller owns (and must delete) ``temp_path`` of the result; on refusal nothing is left."""
    limit = max_upload_bytes()
    name = PurePath(original_name or "").name[:255]
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
