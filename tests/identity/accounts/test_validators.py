"""GB 11643 ID numbers, GB 32100 credit codes, mobile phones: published examples and every way
to get them wrong; property tests over generated valid identifiers."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from yiwang.identity import validators as v

TODAY = dt.date(2026, 11, 26)


def error_of(fn, value, **kw) -> ValidationError:
    with pytest.raises(ValidationError) as exc:
        fn(value, **kw)
    return exc.value


# --- ID numbers ---------------------------------------------------------------------------------


def test_gb11643_published_example():
    # The example in GB 11643-1999: 北京市朝阳区, born 1949-12-31, a woman, check character X.
    info = v.validate_id_number("11010519491231002X", today=TODAY)
    assert info.region_code == "110105"
    assert info.birth_date == dt.date(1949, 12, 31)
    assert info.sex == "female"
    assert info.region_known


def test_lower_case_x_and_spaces_are_normalised():
    assert v.validate_id_number(" 110105 19491231 002x", today=TODAY).value == "11010519491231002X"


def test_check_digit_message_names_the_right_digit():
    err = error_of(v.validate_id_number, "110105194912310021", today=TODAY)
    assert err.code == "check_digit"
    assert err.messages == ["身份证号校验位错误，应为X"]


@pytest.mark.parametrize(
    ("value", "code", "message"),
    [
        ("", "required", "请填写身份证号"),
        ("1101051949123100", "length", "身份证号应为18位，当前为16位"),
        ("11010519491231002X1", "length", "身份证号应为18位，当前为19位"),
        ("1101051949A231002X", "character", "身份证号第11位含非法字符 A（前17位应为数字）"),
        ("11010519491231002Y", "character", "身份证号第18位含非法字符 Y（应为数字或 X）"),
        ("990105194912310021", "region", "身份证号前6位 990105 不是有效的行政区划代码"),
        ("110000194912310021", "region", None),  # a province code alone is not an address code
        ("110105202302300021", "birth_date", "出生日期 2023-02-30 不存在"),
        ("110105194913010021", "birth_date", "出生日期 1949-13-01 不存在"),
        ("110105203001010021", "birth_future", "出生日期 2030-01-01 晚于今天"),
        ("110105189901010021", "birth_past", None),
    ],
)
def test_id_number_failures(value, code, message):
    err = error_of(v.validate_id_number, value, today=TODAY)
    assert err.code == code
    if message:
        assert err.messages == [message]


def test_historic_county_code_accepted_by_its_province():
    # 350182 (长乐市, a district since 2017) is not in the bundled list, but 35 (福建省) is a
    # province: cards issued before 2017 keep the old code.
    first17 = "35018219800101001"
    assert v.region_code_status("350182") == "historic"
    info = v.validate_id_number(first17 + v.id_check_digit(first17), today=TODAY)
    assert info.region_code == "350182"
    assert not info.region_known


def test_birth_date_today_is_valid():
    first17 = "350102" + TODAY.strftime("%Y%m%d") + "001"
    v.validate_id_number(first17 + v.id_check_digit(first17), today=TODAY)


# Fujian county codes from the bundled GB/T 2260 list, the same source the generator uses.
FUJIAN = sorted(c for c in v._known_regions() if c.startswith("35") and not c.endswith("00"))


@st.composite
def valid_id_numbers(draw) -> str:
    region = draw(st.sampled_from(FUJIAN))
    birth = draw(st.dates(min_value=dt.date(1900, 1, 1), max_value=TODAY))
    seq = draw(st.integers(min_value=0, max_value=999))
    first17 = f"{region}{birth:%Y%m%d}{seq:03d}"
    return first17 + v.id_check_digit(first17)


@settings(max_examples=300, deadline=None)
@given(valid_id_numbers())
def test_every_generated_valid_id_passes(value):
    assert v.validate_id_number(value, today=TODAY).value == value


@settings(max_examples=500, deadline=None)
@given(valid_id_numbers(), st.integers(min_value=0, max_value=17), st.sampled_from("0123456789X"))
def test_any_single_character_change_fails(value, pos, char):
    changed = value[:pos] + char + value[pos + 1 :]
    if changed == value:
        return
    with pytest.raises(ValidationError):
        v.validate_id_number(changed, today=TODAY)


@settings(max_examples=300, deadline=None)
@given(valid_id_numbers(), st.integers(min_value=0, max_value=16))
def test_swapping_adjacent_different_digits_fails(value, pos):
    # MOD 11-2 catches every transposition of two adjacent different characters.
    a, b = value[pos], value[pos + 1]
    if a == b:
        return
    swapped = value[:pos] + b + a + value[pos + 2 :]
    with pytest.raises(ValidationError):
        v.validate_id_number(swapped, today=TODAY)


# --- credit codes -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        "91350100M000100Y43",  # 福州 (real format, check characters verified)
        "91110108551385082Q",
        "914403001922038216",
        "91110000802100433B",
        "91440300708461136T",
    ],
)
def test_real_credit_codes_pass(code):
    info = v.validate_credit_code(code)
    assert info.value == code
    assert info.region_code == code[2:8]


def test_credit_code_parts():
    info = v.validate_credit_code("91350100m000100y43")
    assert (info.authority, info.category, info.region_code, info.org_code) == (
        "9",
        "1",
        "350100",
        "M000100Y4",
    )


@pytest.mark.parametrize(
    ("value", "code", "message"),
    [
        ("", "required", "请填写统一社会信用代码"),
        ("91350100M000100Y4", "length", "统一社会信用代码应为18位，当前为17位"),
        ("9135I100M000100Y43", "character", "统一社会信用代码第5位含非法字符 I"),
        ("91350100M000100O43", "character", "统一社会信用代码第16位含非法字符 O"),
        ("91350100M0001-0Y43", "character", "统一社会信用代码第14位含非法字符 -"),
        ("B1350100M000100Y43", "authority", "统一社会信用代码第1位登记管理部门代码 B 无效"),
        ("97350100M000100Y43", "category", "统一社会信用代码第2位机构类别代码 7 与登记管理部门 9 不符"),
        ("9135A100M000100Y43", "region", None),
        ("91990100M000100Y43", "region", "统一社会信用代码第3至8位 990100 不是有效的行政区划代码"),
        ("91350100M000100Y53", "org_check", "统一社会信用代码第17位（组织机构代码校验码）错误，应为4"),
        ("91350100M000100Y44", "check_digit", "统一社会信用代码校验位错误，应为3"),
    ],
)
def test_credit_code_failures(value, code, message):
    err = error_of(v.validate_credit_code, value)
    assert err.code == code
    if message:
        assert err.messages == [message]


@st.composite
def valid_credit_codes(draw) -> str:
    authority = draw(st.sampled_from(sorted(v.CREDIT_AUTHORITIES)))
    category = draw(st.sampled_from(v.CREDIT_AUTHORITIES[authority]))
    region = draw(st.sampled_from(FUJIAN))
    body = draw(st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=8, max_size=8))
    first17 = authority + category + region + body + v.org_check_char(body)
    return first17 + v.credit_check_char(first17)


@settings(max_examples=300, deadline=None)
@given(valid_credit_codes())
def test_every_generated_credit_code_passes(code):
    assert v.validate_credit_code(code).value == code


@settings(max_examples=500, deadline=None)
@given(valid_credit_codes(), st.integers(min_value=0, max_value=17), st.sampled_from(v.CREDIT_ALPHABET))
def test_any_single_character_change_of_a_credit_code_fails(code, pos, char):
    changed = code[:pos] + char + code[pos + 1 :]
    if changed == code:
        return
    with pytest.raises(ValidationError):
        v.validate_credit_code(changed)


# --- phones -------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["13800138000", "+86 138 0013 8000", "0086-199-1234-5678", "16612345678"])
def test_valid_phones(value):
    assert len(v.validate_mobile_phone(value)) == 11


@pytest.mark.parametrize(
    ("value", "code", "message"),
    [
        ("", "required", "请填写手机号"),
        ("1380013800", "length", "手机号应为11位，当前为10位"),
        ("138001380001", "length", "手机号应为11位，当前为12位"),
        ("1380013800a", "character", "手机号只能包含数字"),
        ("12800138000", "prefix", "手机号号段 12 无效：大陆手机号以13至19开头"),
        ("23800138000", "prefix", None),
    ],
)
def test_phone_failures(value, code, message):
    err = error_of(v.validate_mobile_phone, value)
    assert err.code == code
    if message:
        assert err.messages == [message]
