"""Uploaded images are decoded and encoded again (``cases.sanitize``): what is stored holds the
pixels, upright, and nothing else — no comment, EXIF, XMP or text chunk where markup or a
person's location could ride along, also when it is markup the structural check does not know.
A decompression bomb (a small file declaring a huge image) is refused before it is decoded."""

from __future__ import annotations

import io
import os
import struct
import zlib

from PIL import Image, PngImagePlugin

from tests.cases.test_upload_fuzz import _own_tempdir, refused  # noqa: F401
from yiwang.cases.uploads import check_stream

# Markup that runs in a page (an event handler) but that the structural check's list misses.
MARKUP = b"<img src=x onerror=alert(document.cookie)>"


def stored(content: bytes, name: str) -> bytes:
    checked = check_stream([content], name)
    try:
        with open(checked.temp_path, "rb") as fh:
            data = fh.read()
        assert checked.size == len(data)
        return data
    finally:
        os.unlink(checked.temp_path)


def _photo() -> Image.Image:
    img = Image.new("RGB", (40, 20), (200, 30, 30))
    img.paste((20, 20, 220), (0, 0, 10, 20))  # a blue band on the left, to see the turn
    return img


def test_jpeg_comment_and_exif_are_not_kept_and_the_photo_is_turned_upright():
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: turn 90 degrees clockwise to show
    exif[0x010E] = MARKUP.decode()  # ImageDescription
    exif[0x8825] = {2: (26.0, 4.0, 0.0), 4: (119.0, 18.0, 0.0)}  # GPS: where it was taken
    buf = io.BytesIO()
    _photo().save(buf, format="JPEG", quality=95, exif=exif.tobytes(), comment=MARKUP)
    original = buf.getvalue()
    assert MARKUP in original and b"Exif" in original
    copy = stored(original, "照片.jpg")
    assert MARKUP not in copy and b"Exif" not in copy and b"onerror" not in copy
    img = Image.open(io.BytesIO(copy))
    assert img.format == "JPEG" and img.size == (20, 40)  # upright: portrait
    assert not img.getexif() and "comment" not in img.info
    r, g, b = img.getpixel((10, 2))  # the blue band is now at the top
    assert b > 150 and r < 100


def test_jpeg_without_a_turn_keeps_its_quality():
    buf = io.BytesIO()
    _photo().save(buf, format="JPEG", quality=95, comment=b"scanner model X")
    copy = stored(buf.getvalue(), "a.jpg")
    assert b"scanner model X" not in copy
    before, after = Image.open(buf), Image.open(io.BytesIO(copy))
    assert after.quantization == before.quantization  # the same tables: no loss to speak of


def test_png_text_chunks_are_not_kept_and_pixels_are():
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", MARKUP.decode())
    info.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta>" + MARKUP.decode() + "</x:xmpmeta>")
    info.add_text("Secret", "x" * 2000, zip=True)
    img = Image.new("RGBA", (16, 16), (30, 200, 30, 128))
    buf = io.BytesIO()
    img.save(buf, format="PNG", pnginfo=info, dpi=(300, 300))
    original = buf.getvalue()
    assert MARKUP in original and b"zTXt" in original
    copy = stored(original, "scan.png")
    assert MARKUP not in copy and b"tEXt" not in copy and b"iTXt" not in copy and b"zTXt" not in copy
    out = Image.open(io.BytesIO(copy))
    assert out.mode == "RGBA" and out.tobytes() == img.tobytes()
    assert round(out.info["dpi"][0]) == 300  # the scan's resolution stays: it prints at its size


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def test_a_png_declaring_a_huge_image_is_refused_before_decoding():
    """50000 x 50000 pixels (2.5 billion; 7.5 GB decoded) in a file of a few hundred bytes."""
    ihdr = struct.pack(">IIBBBBB", 50_000, 50_000, 8, 2, 0, 0, 0)
    bomb = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(b"\0" * 1000))
    bomb += _chunk(b"IEND", b"")
    exc = refused(bomb, "炸弹.png")
    assert exc.code == "image_too_large"
    assert exc.messages == ["文件“炸弹.png”的图像过大（50000×50000 像素），请缩小后上传。"]


def test_a_png_whose_pixels_do_not_decode_is_refused():
    ihdr = struct.pack(">IIBBBBB", 16, 16, 8, 2, 0, 0, 0)
    broken = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", b"not deflate data")
    broken += _chunk(b"IEND", b"")
    exc = refused(broken, "坏.png")
    assert exc.code == "unreadable" and "无法按 PNG 格式读取" in exc.messages[0]
