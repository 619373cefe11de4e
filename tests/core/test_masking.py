"""The one masking rule for ID and phone numbers (core.crypto.mask_text), in the spellings people
type, and the numbers it must leave alone."""

from __future__ import annotations

import re
import unicodedata

import pytest

from yiwang.core.crypto import mask_data, mask_text

ID = "350102198503150110"
PHONE = "13905910001"


def digits(text: str) -> str:
    """The digits a reader (or a grep) would find: full-width folded, separators dropped."""
    return re.sub(r"[^0-9Xx]", "", unicodedata.normalize("NFKC", text))


@pytest.mark.parametrize(
    "typed",
    [
        ID,
        ID + "a",
        "x" + ID + "b",
        "350102 198503150110",
        "350102-19850315-0110",
        "350102 1985 0315 0110",
        "３５０１０２１９８５０３１５０１１０",
        "35010219850315011X",
        "35010219850315011x",
        "登录名：350102198503150110。",
        "350102850315011",  # a 15-digit ID of before 1999
        "350102 850315 011",
    ],
)
def test_id_numbers_in_any_spelling_are_masked(typed):
    masked = mask_text(typed)
    assert masked != typed
    kept = digits(masked)
    assert "19850315" not in kept and "850315" not in kept  # the birth date is the personal part
    assert "*" in masked


@pytest.mark.parametrize(
    "typed",
    [
        PHONE,
        "+86" + PHONE,
        "+86 " + PHONE,
        "0086" + PHONE,
        "86" + PHONE,
        "(+86)139-0591-0001",
        "139 0591 0001",
        "139-0591-0001",
        "１３９０５９１０００１",
        "＋８６１３９０５９１０００１",
        "００８６ １３９ ０５９１ ０００１",
        PHONE + "a",
        "电话13905910001，谢谢",
    ],
)
def test_mobile_numbers_in_any_spelling_are_masked(typed):
    masked = mask_text(typed)
    kept = digits(masked)
    assert PHONE not in kept and "0591" not in kept
    assert kept.endswith("0001") or "0001" in kept  # the owner can still recognise it


def test_two_numbers_side_by_side_are_both_masked():
    masked = mask_text(f"{PHONE} {ID}")
    assert PHONE not in digits(masked) and "19850315" not in digits(masked)


@pytest.mark.parametrize(
    "other",
    [
        "35010220261207000001",  # a case number: region, date, sequence (20 digits)
        "13010220261207000001",  # ... of a region whose code starts like a mobile number
        "913501001234567890",  # an all-digit unified social credit code
        "1390591000",  # 10 digits: not a mobile number
        "2026-12-07 10:05:10",
        "seq 1234567",
        "",
    ],
)
def test_other_numbers_keep_their_value(other):
    assert mask_text(other) == other


def test_mask_data_reaches_nested_values_and_keys():
    data = {"login": ID + "a", "list": [f"+86 {PHONE}", 3], PHONE: {"n": None}}
    masked = mask_data(data)
    text = digits(str(masked))
    assert "19850315" not in text and PHONE not in text
    assert masked["list"][1] == 3
    assert masked["139****0001"] == {"n": None}
