"""Traditional Chinese for data: published content is stored once, in Simplified Chinese, and shown
in Traditional characters to a reader who chose 繁體中文, converted on the way out.

The converter is OpenCC (the ``opencc`` package, its C++ library) with the ``s2t`` configuration:
OpenCC's standard Traditional characters, character by character and for the one-to-many
characters by phrase (发展 → 發展, 头发 → 頭髮), without regional vocabulary. The Taiwan and
Hong Kong configurations (``s2twp``, ``s2hk``) would also rewrite words (软件 → 軟體, 信息 → 資訊),
which is wrong for the proper names a province publishes (a department, an item, a certificate
is called what its law calls it); ``s2t`` is also what the interface's catalogue was made with
(docs/portal.md, "Languages").

OpenCC changes only CJK characters, so escaped or safe HTML stays valid HTML and a safe string
stays safe. One converter per process, made on first use under a lock; converting is a few
microseconds, and short strings (names, labels) are kept in an in-process LRU cache since a page
repeats them. Long texts are not cached here: the pages that show them (the guide body, notices)
are rendered once per language and kept (portal.views, cases.notices).

Stored data is never converted: ``to_hant`` is for display only. The other way, ``to_hans``
(OpenCC ``t2s``) turns what a 繁體中文 reader types into a search box into the Simplified
characters the catalogue is indexed in.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

from django.utils.safestring import SafeData, mark_safe
from django.utils.translation import get_language

CONFIG = "s2t"
# The language codes whose readers get Traditional characters (settings.LANGUAGES has zh-hant).
HANT_LANGUAGES = frozenset({"zh-hant", "zh-tw", "zh-hk", "zh-mo"})
# Strings up to this length go through the LRU cache; longer ones are converted each time.
CACHED_LENGTH = 200

HANS_CONFIG = "t2s"

_lock = threading.Lock()
_converter: Any = None
_hans_converter: Any = None


def _opencc() -> Any:
    global _converter
    if _converter is None:
        with _lock:
            if _converter is None:
                import opencc

                _converter = opencc.OpenCC(CONFIG)
    return _converter


def _opencc_hans() -> Any:
    global _hans_converter
    if _hans_converter is None:
        with _lock:
            if _hans_converter is None:
                import opencc

                _hans_converter = opencc.OpenCC(HANS_CONFIG)
    return _hans_converter


@lru_cache(maxsize=16384)
def _cached(text: str) -> str:
    return str(_opencc().convert(text))


def _has_cjk(text: str) -> bool:
    return any(ord(ch) >= 0x2E80 for ch in text)


def to_hant(text: str) -> str:
    """``text`` in Traditional characters, whatever the active language; a safe string stays safe."""
    if not text or not _has_cjk(text):
        return text
    converted = _cached(str(text)) if len(text) <= CACHED_LENGTH else str(_opencc().convert(str(text)))
    # A safe string (Django's SafeString, or Jinja2's Markup) stays safe: only CJK characters changed.
    return mark_safe(converted) if isinstance(text, SafeData) or hasattr(text, "__html__") else converted


def to_hans(text: str) -> str:
    """``text`` (a search query) in Simplified characters."""
    if not text or not _has_cjk(text):
        return text
    return str(_opencc_hans().convert(text))


def is_hant(language: str | None = None) -> bool:
    """Whether ``language`` (default: the active one) is read in Traditional characters."""
    return (language if language is not None else get_language() or "").lower() in HANT_LANGUAGES


def hant(value: Any) -> Any:
    """``value`` for display: a string converted when the active language is Traditional Chinese,
    anything else (and every value in other languages) returned as it is. The template filter."""
    if isinstance(value, str) and is_hant():
        return to_hant(value)
    return value


def hant_data(value: Any) -> Any:
    """A copy of ``value`` (strings, lists, tuples and dicts of them, as JSON gives) with every
    string value converted when the active language is Traditional Chinese; keys stay as they
    are. Otherwise ``value`` itself."""
    if not is_hant():
        return value
    return _deep(value)


def _deep(value: Any) -> Any:
    if isinstance(value, str):
        return to_hant(value)
    if isinstance(value, dict):
        return {k: _deep(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_deep(v) for v in value)
    return value
