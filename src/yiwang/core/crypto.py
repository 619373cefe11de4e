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


# ID and mobile numbers as people type them: full-width digits (``\d`` is Unicode), spaces,
# hyphens or dots inside, a letter stuck to the end, a +86 / 0086 / 86 prefix. Only a digit right
# before or after ends the match, so longer numbers (case numbers: 20 digits) are left alone.
_SEP = r"[\s\-\u2010-\u2015\uff0d_.\u00b7\u30fb]{0,2}"
_ID18_RE = re.compile(rf"(?<!\d)\d(?:{_SEP}\d){{16}}{_SEP}[\dXx\uff38\uff58](?!\d)")
_ID15_RE = re.compile(rf"(?<!\d)\d(?:{_SEP}\d){{14}}(?!\d)")
_PHONE_RE = re.compile(
    rf"(?<![\d+\uff0b])(?P<prefix>(?:[(\uff08]?(?:[+\uff0b]|[0\uff10]{{2}})?{_SEP}[8\uff18][6\uff16][)\uff09]?){_SEP})?"
    rf"(?P<number>[1\uff11]{_SEP}[3-9\uff13-\uff19](?:{_SEP}\d){{9}})(?!\d)"
)


def _digits(text: str) -> str:
    """The digits of ``text`` in ASCII (full-width and other Unicode digits included), an ID
    number's check letter as X; separators dropped."""
    out = []
    for ch in text:
        if ch.isdigit():
            out.append(str(int(ch)) if ch.isdecimal() else ch)
        elif ch in "Xx\uff38\uff58":
            out.append("X")
    return "".join(out)


def _plausible_birth(yyyymmdd: str) -> bool:
    """A resident ID's birth date part: a year 18xx-20xx, a month and a day that can exist.
    Checked so that other 15/18-digit numbers (credit codes, order numbers) keep their value."""
    year, month, day = int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8])
    return 1800 <= year <= 2099 and 1 <= month <= 12 and 1 <= day <= 31


def _mask_id18(m: re.Match[str]) -> str:
    d = _digits(m.group(0))
    if len(d) != 18 or d[0] == "0" or not _plausible_birth(d[6:14]):
        return m.group(0)
    return mask_id_number(d)


def _mask_id15(m: re.Match[str]) -> str:
    d = _digits(m.group(0))
    if len(d) != 15 or d[0] == "0" or not _plausible_birth("19" + d[6:12]):
        return m.group(0)
    return mask_id_number(d)


def _mask_phone(m: re.Match[str]) -> str:
    d = _digits(m.group("number"))
    return (m.group("prefix") or "") + mask_phone(d)


def mask_text(text: str) -> str:
    """Mask anything that looks like a resident ID number (18 or old 15 digits) or a mainland
    mobile number inside free text, in any of the spellings above, with ``mask_id_number`` and
    the phone's first 3 and last 4 digits. The one masking rule of the platform:
    log records (``MaskingFilter``), audit entries (``core.audit``) and typed login names."""
    if not text or not any(ch.isdigit() for ch in text):
        return text
    text = _ID18_RE.sub(_mask_id18, text)
    text = _ID15_RE.sub(_mask_id15, text)
    return _PHONE_RE.sub(_mask_phone, text)


def mask_data(value):
    """``mask_text`` on every string inside JSON-like data (dicts, lists), keys included."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {mask_data(k): mask_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_data(v) for v in value]
    return value


def mask_record(record: logging.LogRecord) -> None:
    """Mask a log record in place: its message with its arguments, a formatted traceback and the
    stack. The message is formatted here (a number may be split across arguments) and the
    arguments dropped when anything was masked."""
    try:
        message = record.getMessage()
    except Exception:  # a broken format string is logging's to report, not ours
        return
    masked = mask_text(message)
    if masked != message:
        record.msg, record.args = masked, ()
    if record.exc_info and not record.exc_text:
        # Formatters reuse ``exc_text``: the traceback (exception messages quote input) is
        # formatted once, masked.
        record.exc_text = mask_text(logging.Formatter().formatException(record.exc_info))
    elif record.exc_text:
        record.exc_text = mask_text(record.exc_text)
    if record.stack_info:
        record.stack_info = mask_text(record.stack_info)


class MaskingFilter(logging.Filter):
    """A logging filter that masks ID and phone numbers in every record it sees (see LOGGING)."""

    def filter(self, record: logging.LogRecord) -> bool:
        mask_record(record)
        return True


def _masking_factory(previous):
    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        mask_record(record)
        return record

    factory.yiwang_masking = True  # type: ignore[attr-defined]
    return factory


def install_masking_record_factory() -> None:
    """Mask every log record as it is created, whichever logger makes it and whichever handlers
    then see it: Django's own (``django.server``, ``mail_admins``), gunicorn's access log,
    pytest's capture, and any a deployment adds. Installed once per process."""
    current = logging.getLogRecordFactory()
    if not getattr(current, "yiwang_masking", False):
        logging.setLogRecordFactory(_masking_factory(current))


def configure_logging(logging_settings: dict) -> None:
    """``LOGGING_CONFIG``: the record factory above, then ``LOGGING`` as Django would apply it."""
    import logging.config

    install_masking_record_factory()
    logging.config.dictConfig(logging_settings)
