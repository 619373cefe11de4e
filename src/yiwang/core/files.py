"""Names of generated documents in storage.

Certificates and notices carry personal data; their stored name must not be derivable from
anything a person can see or guess (a case number, a certificate number, a row id), so that
storage reached by other means (a misconfigured bucket or web server, a backup, a listing)
gives no direct path to one person's document. Files are handed out only by the
permission-checked views, never from ``MEDIA_URL`` (DESIGN.md).
"""

from __future__ import annotations

import secrets


def unguessable_name(suffix: str = ".pdf") -> str:
    """128 random bits in hex, then ``suffix``: ``3f9c…e1.pdf``."""
    return f"{secrets.token_hex(16)}{suffix}"


def is_unguessable(name: str) -> bool:
    """Was the stored ``name`` (a path) made by ``unguessable_name``?"""
    base = name.rsplit("/", 1)[-1]
    stem = base.split(".", 1)[0]
    return len(stem) == 32 and all(c in "0123456789abcdef" for c in stem)
