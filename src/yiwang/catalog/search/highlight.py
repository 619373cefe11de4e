"""Mark what a query matched in a piece of text, for result lists and guide pages."""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from . import tokens as tk

_MAX_SPAN = 12  # characters a pinyin or initials match may cover


def _fold(char: str) -> str:
    folded = unicodedata.normalize("NFKC", char).lower()
    return folded if len(folded) == 1 else char.lower()


def _mark_occurrences(folded: str, term: str, marked: list[bool]) -> bool:
    found = False
    start = folded.find(term)
    while term and start != -1:
        found = True
        for i in range(start, start + len(term)):
            marked[i] = True
        start = folded.find(term, start + 1)
    return found


def _mark_pinyin(text: str, word: str, marked: list[bool]) -> None:
    """Mark CJK spans whose pinyin (shebao) or initials (sb) spell the word."""
    for i, char in enumerate(text):
        if not tk.is_cjk(char):
            continue
        spelled, initials = "", ""
        for j in range(i, min(len(text), i + _MAX_SPAN)):
            if not tk.is_cjk(text[j]):
                break
            syllables, firsts = tk.pinyin_of(text[j])
            spelled += syllables[0] if syllables else ""
            initials += firsts[0] if firsts else ""
            if spelled == word or (len(word) >= 2 and initials == word):
                for k in range(i, j + 1):
                    marked[k] = True
                break
            if not (word.startswith(spelled) or word.startswith(initials)):
                break


@functools.lru_cache(maxsize=1024)
def _terms(q: str, extra_terms: tuple[str, ...]) -> tuple[str, ...]:
    """The words to mark for a query: parsed once per query, not once per result row (a result
    page highlights 20 names with the same query)."""
    parsed = tk.parse_query(q)
    return tuple(dict.fromkeys([*parsed.words, *(w for t in extra_terms for w in tk.words(t))]))


def matched_positions(text: str, q: str, extra_terms: Iterable[str] = ()) -> list[bool]:
    folded = "".join(_fold(c) for c in text)
    marked = [False] * len(text)
    for term in _terms(q, tuple(extra_terms)):
        if tk.is_cjk(term):
            if not _mark_occurrences(folded, term, marked):
                found = [_mark_occurrences(folded, gram, marked) for gram in tk.query_grams(term)]
                if not any(found):  # matched through an alias (社保卡 on 社会保障卡申领)
                    for char in set(term):
                        _mark_occurrences(folded, char, marked)
        else:
            _mark_occurrences(folded, term, marked)
            if term.isalpha():
                _mark_pinyin(folded, term, marked)
    return marked


def highlight(text: str | None, q: str | None, extra_terms: Iterable[str] = ()) -> SafeString:
    """The text, HTML-escaped, with matched characters wrapped in <mark>. Pass
    ``SearchResult.expanded_terms`` as ``extra_terms`` to mark synonym matches too."""
    text = text or ""
    if not text or not (q or "").strip():
        return mark_safe(escape(text))  # noqa: S308 - escaped just above
    marked = matched_positions(text, q or "", extra_terms)
    out: list[str] = []
    i = 0
    while i < len(text):
        j = i
        while j < len(text) and marked[j] == marked[i]:
            j += 1
        piece = escape(text[i:j])
        out.append(f"<mark>{piece}</mark>" if marked[i] else piece)
        i = j
    return mark_safe("".join(out))  # noqa: S308 - every piece is escaped
