"""Properties the published-example tests of test_validators.py leave open: any text at all is
either a valid identifier or refused with a Chinese message (never another exception), and a
credit code catches every swap of two adjacent different characters, as an ID number does."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.identity.accounts.test_validators import TODAY, valid_credit_codes, valid_id_numbers
from yiwang.identity import validators as v

CJK = re.compile(r"[\u4e00-\u9fff]")
# Text near the real thing (digits, check letters, blanks, full-width forms) and anything at all.
near = st.text(alphabet="0123456789XxABCDEFGHJKLMNPQRTUWY ０１２３-\u3000\t", max_size=24)
anything = st.text(max_size=40)


@pytest.mark.parametrize(
    "validate",
    [lambda s: v.validate_id_number(s, today=TODAY), v.validate_credit_code, v.validate_mobile_phone],
    ids=["id_number", "credit_code", "mobile_phone"],
)
@settings(max_examples=300, deadline=None)
@given(value=st.one_of(near, anything))
def test_any_text_is_valid_or_refused_in_chinese(validate, value):
    try:
        validate(value)
    except ValidationError as exc:
        assert exc.messages and all(CJK.search(m) for m in exc.messages), exc.messages


@settings(max_examples=300, deadline=None)
@given(valid_credit_codes(), st.integers(min_value=0, max_value=15))
def test_swapping_adjacent_different_characters_of_a_credit_code_fails(code, pos):
    # MOD 31 with weights 3^i: two adjacent weights differ, 31 is prime, so every swap of two
    # different characters among the first 17 changes the check character.
    a, b = code[pos], code[pos + 1]
    if a == b:
        return
    swapped = code[:pos] + b + a + code[pos + 2 :]
    with pytest.raises(ValidationError):
        v.validate_credit_code(swapped)


@settings(max_examples=200, deadline=None)
@given(valid_id_numbers())
def test_normalising_a_valid_id_number_changes_nothing(value):
    """Lower-case x and surrounding blanks are accepted as the same number (and only those)."""
    assert v.validate_id_number(f"  {value.lower()} ", today=TODAY).value == value
