from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import get_language

from yiwang.core.hant import hant

LARGE_TEXT_COOKIE = "yiwang_large_text"
REGION_COOKIE = "yiwang_region"

# BCP 47 tags for the html lang attribute (Django's own codes are lower-case, "zh-hans").
HTML_LANG = {"zh-hans": "zh-Hans", "zh-hant": "zh-Hant", "en": "en"}


def html_lang() -> str:
    lang = (get_language() or settings.LANGUAGE_CODE).lower()
    return HTML_LANG.get(lang, lang)


def portal(request: HttpRequest) -> dict:
    return {
        "platform_name": hant(settings.YIWANG_PLATFORM_NAME),
        "large_text": request.COOKIES.get(LARGE_TEXT_COOKIE) == "1",
        "html_lang": html_lang(),
        # Each language named in itself, whatever the page's language (English, not 英语).
        "language_choices": settings.LANGUAGES,
    }
