"""Encryption, keyed hashing and masking of personal data (Personal Information Protection Law).

- ``encrypt`` / ``decrypt``: AES-256-GCM; the ciphertext names its key ("k2:…"), so keys can be
  rotated: the first key of ``YIWANG_DATA_KEYS`` encrypts, every listed key decrypts, and
  ``yiwang rotate-data-keys`` re-encrypts old rows under the current key.
- ``blind_index``: HMAC-SHA256 under ``YIWANG_HASH_KEY`` for exact lookup ("is this ID number
  registered?") without storing or scanning plaintext.
- ``mask_id_number`` / ``mask_phone`` / ``mask_text``: what pages, API answers and log lines show;
  a masked value keeps too few characters to be joined with other columns into the number.

With neither variable set (the embedded default) keys are generated once under var/.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import logging
import os
import re
import secrets

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings


class DataKeyError(Exception):
    """A data key is missing from YIWANG_DATA_KEYS or malformed."""


def _load_or_create(name: str, create) -> str:
    path = settings.DATA_DIR / name
    if not path.exists():
        path.write_text(create())
        path.chmod(0o600)
    return path.read_text().strip()


@functools.cache
def _data_keys() -> list[tuple[str, bytes]]:
    """[(key id, 32-byte key)], current first. Format: "k2:<base64>,k1:<base64>"."""
    raw = os.environ.get("YIWANG_DATA_KEYS") or _load_or_create(
        "data_keys", lambda: "k1:" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    )
    keys = []
    for part in raw.split(","):
        kid, _, b64 = part.strip().partition(":")
        key = base64.urlsafe_b64decode(b64)
        if not kid or len(key) != 32:
            raise DataKeyError(f"YIWANG_DATA_KEYS: key {kid!r} must be 32 bytes, base64")
        keys.append((kid, key))
    return keys


@functools.cache
def _hash_key() -> bytes:
    raw = os.environ.get("YIWANG_HASH_KEY") or _load_or_create(
        "hash_key", lambda: base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    )
    return base64.urlsafe_b64decode(raw)


def reset_key_cache() -> None:
    """Forget the loaded keys (tests, rotation)."""
    _data_keys.cache_clear()
    _hash_key.cache_clear()


def current_key_id() -> str:
    return _data_keys()[0][0]


def encrypt(plaintext: str, *, context: str = "") -> str:
    """Encrypt under the current key; ``context`` (e.g. "person.id_number") is bound as
    associated data so a ciphertext cannot be moved to another column unnoticed."""
    kid, key = _data_keys()[0]
    nonce = secrets.token_bytes(12)
    ct = AESGCM(key).encrypt(nonce, plaintext.encode(), context.encode())
    return f"{kid}:{base64.urlsafe_b64encode(nonce + ct).decode()}"


def decrypt(token: str, *, context: str = "") -> str:
    kid, _, b64 = token.partition(":")
    keys = dict(_data_keys())
    if kid not in keys:
        raise DataKeyError(f"no data key {kid!r} is configured (YIWANG_DATA_KEYS)")
    blob = base64.urlsafe_b64decode(b64)
    return AESGCM(keys[kid]).decrypt(blob[:12], blob[12:], context.encode()).decode()


def key_id_of(token: str) -> str:
    return token.partition(":")[0]


def blind_index(value: str, *, purpose: str) -> str:
    """Keyed hash for exact lookup; ``purpose`` separates ID numbers from phones."""
    normalized = value.strip().upper()
    return hmac.new(_hash_key(), f"{purpose}:{normalized}".encode(), hashlib.sha256).hexdigest()


ID_MASK_KEEP = (1, 1)  # characters kept at the start and at the end of a masked ID number


def mask_id_number(value: str) -> str:
    """1****************4: the first and the last character only, as the platform shows it everywhere.

    Contract: a masked ID number never fixes more than these two characters. The first digit
    names a group of provinces and the last is the check character, so even beside a full birth
    date and a county (which no clear column holds) about 10^3 numbers remain per county, and
    with nothing beside it millions: the masked form cannot be joined with anything in the
    database into the number (tests/identity/accounts/test_reconstruction.py).
    """
    v = value.strip()
    head, tail = ID_MASK_KEEP
    if len(v) < 8:
        return "*" * len(v)
    return v[:head] + "*" * (len(v) - head - tail) + v[-tail:]


def mask_phone(value: str) -> str:
    """139****0001: the first 3 and last 4 digits. Contract: no stored value shows any of the
    middle four, so the 10^4 numbers a masked phone leaves stay open."""
    v = value.strip()
    if len(v) < 7:
        return "*" * len(v)
    return v[:3] + "*" * (len(v) - 7) + v[-4:]


_ID_RE = re.compile(r"(?<![0-9A-Za-z])([1-9]\d{5})(\d{8})(\d{3}[0-9Xx])(?![0-9A-Za-z])")
_PHONE_RE = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")


def mask_text(text: str) -> str:
    """Mask anything that looks like an ID number or a mobile number inside free text."""
    text = _ID_RE.sub(lambda m: mask_id_number(m.group(0)), text)
    return _PHONE_RE.sub(lambda m: m.group(1) + "****" + m.group(3), text)


class MaskingFilter(logging.Filter):
    """A logging filter that masks ID and phone numbers in every record (see LOGGING)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is not ours to fix here
            return True
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True
