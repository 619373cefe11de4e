"""Rewrite an uploaded PDF, JPEG or PNG into a copy without active content or hidden data.

This file runs as a program of its own, never imported by the web process:

    python -I sanitize.py KIND SOURCE TARGET MEMORY_MB CPU_SECONDS

``uploads.sanitize`` starts it for every accepted upload. Parsing a hostile file is the risky
part (a deflate bomb in an object stream makes qpdf hold gigabytes; a parser bug crashes the
process), so it happens here, under an address-space and CPU limit this process sets on itself:
a bomb kills this process, not a web worker. It needs the standard library, pikepdf and Pillow,
nothing of Django or yiwang (``-I`` keeps the environment's PYTHONPATH out of it).

It prints one JSON line on standard output:

- ``{"ok": true, "pages": n}`` — TARGET holds the rewritten copy;
- ``{"refused": "active_content", "found": [...]}`` — what was found, of ``FINDINGS``;
- ``{"refused": "encrypted" | "unreadable" | "image_too_large"}``.

**PDF.** qpdf (through pikepdf) reads the file as a reader does: the cross-reference table or
stream, object streams, indirect and escaped names, indirect ``/Filter`` and ``/Length``,
damaged files it can recover. Every object in the file is walked (also those no page refers
to), with the direct dictionaries and arrays inside it. Refused when found anywhere:
JavaScript (an action ``/S /JavaScript``, a ``/JS`` or ``/OnInstantiate`` key, a ``/JavaScript``
name tree), ``/Launch``, embedded files (``/EmbeddedFile`` streams, ``/EF`` in a file
specification, file-attachment annotations, ``/GoToE``, the ``/EmbeddedFiles`` name tree, a
portfolio's ``/Collection``), an XFA form with a script (``<script>`` in any of its XML parts),
RichMedia, Flash and 3D. What is left is rewritten: no additional actions (``/AA``), no action on
opening (a destination array stays), no action other than going to a page of the document
(``/GoTo``, and the four page-turning ``/Named`` actions) on links, form fields or outline items,
no action chains (``/Next``), no XFA. qpdf writes only the objects reachable from the trailer,
without object streams and without encryption, and copies each stream's encoded data as it was
(``StreamDecodeLevel.none``): nothing is inflated to write the copy.

**Images.** Pillow decodes the image (refused above ``MAX_PIXELS``, before any pixel is
decoded), turns it upright by its EXIF orientation, and encodes it again with nothing but the
pixels (and, for a PNG, its transparency and resolution): no EXIF, XMP, ICC profile, comment
or text chunk, nothing after the image's end. A JPEG whose orientation needs no turn keeps its
quantization tables (``quality="keep"``): decoding and encoding with the same tables loses
next to nothing.
"""

from __future__ import annotations

import json
import re
import resource
import sys

# Labels of what is refused; uploads.py turns them into words for the person.
FINDINGS = ("JavaScript", "Launch", "EmbeddedFile", "XFA", "RichMedia")
MAX_PIXELS = 100_000_000  # a 48-megapixel phone photo is 8000 x 6000; 100 MP of RGB is 300 MB
# Actions that only move within the document: kept on links and outline items.
_SAFE_ACTIONS = {"/GoTo", "/Named"}
_SAFE_NAMED = {"/NextPage", "/PrevPage", "/FirstPage", "/LastPage"}
_XFA_SCRIPT = re.compile(rb"<\s*(?:[\w.-]+:)?script\b|javascript:", re.IGNORECASE)


def _limit(memory_mb: int, cpu_seconds: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 1024 * 1024,) * 2)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


# --- PDF -----------------------------------------------------------------------------------------


def _direct_tree(root):
    """``root`` and every dictionary, stream dictionary and array directly inside it; indirect
    children are objects of their own, walked from ``pdf.objects``. A stack, not recursion:
    nesting depth is the file's choice (qpdf limits it too)."""
    import pikepdf

    containers = (pikepdf.Dictionary, pikepdf.Stream, pikepdf.Array)
    stack = [root]
    while stack:
        obj = stack.pop()
        children = obj if isinstance(obj, pikepdf.Array) else obj.values()
        if not isinstance(obj, pikepdf.Array):
            yield obj
        # Numbers, strings and names come out as Python values: only containers go on.
        stack.extend(v for v in children if isinstance(v, containers) and not v.is_indirect)


def _name(obj, key: str) -> str:
    import pikepdf

    value = obj.get(key)
    return str(value) if isinstance(value, pikepdf.Name) else ""


def _xfa_has_script(xfa) -> bool:
    """XFA is a stream, or an array of (part name, stream) pairs; each part is XML."""
    import pikepdf

    parts = [xfa] if isinstance(xfa, pikepdf.Stream) else [p for p in xfa if isinstance(p, pikepdf.Stream)]
    return any(_XFA_SCRIPT.search(part.read_bytes()) for part in parts)


def _findings(d) -> set[str]:
    """What of ``FINDINGS`` one dictionary (or stream dictionary) holds."""
    import pikepdf

    found: set[str] = set()
    action, subtype, kind = _name(d, "/S"), _name(d, "/Subtype"), _name(d, "/Type")
    keys = set(d.keys())
    if action == "/JavaScript" or keys & {"/JS", "/OnInstantiate"}:
        found.add("JavaScript")
    if action == "/Launch":
        found.add("Launch")
    if (
        kind == "/EmbeddedFile"
        or "/EF" in keys
        or "/Collection" in keys
        or subtype == "/FileAttachment"
        or action == "/GoToE"
    ):
        found.add("EmbeddedFile")
    if (
        subtype in ("/RichMedia", "/Flash", "/3D")
        or action == "/RichMediaExecute"
        or "/RichMediaContent" in keys
    ):
        found.add("RichMedia")
    # A dictionary of name trees is the catalog's, whether or not the catalog says /Type.
    names = d.get("/Names")
    if isinstance(names, pikepdf.Dictionary):
        if "/JavaScript" in names:
            found.add("JavaScript")
        if "/EmbeddedFiles" in names:
            found.add("EmbeddedFile")
    xfa = d.get("/XFA")
    if xfa is not None and isinstance(xfa, (pikepdf.Stream, pikepdf.Array)) and _xfa_has_script(xfa):
        found.add("XFA")
    return found


def _is_action(value) -> bool:
    import pikepdf

    return isinstance(value, pikepdf.Dictionary) and isinstance(value.get("/S"), pikepdf.Name)


def _safe_action(action) -> bool:
    kind = _name(action, "/S")
    return kind in _SAFE_ACTIONS and (kind != "/Named" or _name(action, "/N") in _SAFE_NAMED)


def _strip(d) -> None:
    """Remove what runs or loads something from one dictionary (see the module's docstring)."""
    import pikepdf

    # Also what the checks above refuse: should a trick hide it from them, the copy has none.
    for key in (
        "/AA",
        "/XFA",
        "/NeedsRendering",
        "/JS",
        "/OnInstantiate",
        "/EF",
        "/RichMediaContent",
        "/3DD",
    ):
        if key in d:
            del d[key]
    if _is_action(d) and "/Next" in d:
        del d["/Next"]
    opening = d.get("/OpenAction")
    if opening is not None and not isinstance(opening, pikepdf.Array):
        del d["/OpenAction"]
    action = d.get("/A")
    if action is not None and _is_action(action) and not _safe_action(action):
        del d["/A"]
    if "/Collection" in d:
        del d["/Collection"]
    names = d.get("/Names")
    if isinstance(names, pikepdf.Dictionary):
        for key in ("/JavaScript", "/EmbeddedFiles"):
            if key in names:
                del names[key]


def sanitize_pdf(source: str, target: str) -> dict:
    import pikepdf

    try:
        pdf = pikepdf.open(source)
    except pikepdf.PasswordError:
        return {"refused": "encrypted"}
    except (pikepdf.PdfError, ValueError, RuntimeError):
        return {"refused": "unreadable"}
    with pdf:
        try:
            objects = list(pdf.objects)
            pages = len(pdf.pages)
            found: set[str] = set()
            for obj in objects:
                if isinstance(obj, (pikepdf.Dictionary, pikepdf.Stream, pikepdf.Array)):
                    for d in _direct_tree(obj):
                        found |= _findings(d)
            if found:
                return {"refused": "active_content", "found": [f for f in FINDINGS if f in found]}
            if pages == 0:
                return {"refused": "unreadable"}
            for obj in objects:
                if isinstance(obj, (pikepdf.Dictionary, pikepdf.Stream, pikepdf.Array)):
                    for d in _direct_tree(obj):
                        _strip(d)
            pdf.save(
                target,
                stream_decode_level=pikepdf.StreamDecodeLevel.none,
                object_stream_mode=pikepdf.ObjectStreamMode.disable,
                fix_metadata_version=False,
                encryption=False,
                deterministic_id=True,
            )
        except (pikepdf.PdfError, ValueError, RuntimeError, KeyError, TypeError):
            return {"refused": "unreadable"}
    return {"ok": True, "pages": pages}


# --- images --------------------------------------------------------------------------------------


def sanitize_image(kind: str, source: str, target: str) -> dict:
    from PIL import Image, ImageOps

    Image.MAX_IMAGE_PIXELS = None  # checked below, before decoding, with our own limit
    fmt = {"jpeg": "JPEG", "png": "PNG"}[kind]
    try:
        with Image.open(source) as img:
            if img.format not in ({"JPEG", "MPO"} if kind == "jpeg" else {"PNG"}):
                return {"refused": "unreadable"}
            width, height = img.size
            if width * height > MAX_PIXELS:
                return {"refused": "image_too_large", "width": width, "height": height}
            img.load()
            orientation = img.getexif().get(0x0112, 1)
            upright = ImageOps.exif_transpose(img) if orientation in range(2, 9) else img
            transparency, dpi = img.info.get("transparency"), img.info.get("dpi")
            # Pillow writes some of ``info`` back (a JPEG's comment, a PNG's ICC profile): empty.
            upright.info = {}
            options: dict = {}
            if kind == "png":
                if transparency is not None:
                    options["transparency"] = transparency
                if dpi:
                    options["dpi"] = tuple(round(float(v)) for v in dpi)
                upright.save(target, fmt, **options)
            else:
                if upright.mode not in ("RGB", "L", "CMYK"):
                    upright = upright.convert("RGB")
                try:
                    if upright is not img:
                        raise ValueError
                    upright.save(target, fmt, quality="keep", subsampling="keep")
                except (ValueError, OSError, TypeError):
                    upright.save(target, fmt, quality=92)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, EOFError):
        return {"refused": "unreadable"}
    return {"ok": True, "pages": 1}


def main(argv: list[str]) -> int:
    kind, source, target, memory_mb, cpu_seconds = argv
    _limit(int(memory_mb), int(cpu_seconds))
    try:
        outcome = sanitize_pdf(source, target) if kind == "pdf" else sanitize_image(kind, source, target)
    except MemoryError:
        return 3  # the address-space limit: a decompression bomb
    except RecursionError:
        outcome = {"refused": "unreadable"}
    sys.stdout.write(json.dumps(outcome) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
