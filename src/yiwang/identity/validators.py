"""Validators for the identifiers a person types at registration.

- Resident ID numbers (居民身份证号码), GB 11643-1999: 6-digit address code (GB/T 2260), 8-digit
  birth date, 3-digit sequence (odd for men, even for women), one check character computed
  with ISO 7064 MOD 11-2 (``X`` stands for 10).
- Unified social credit codes (统一社会信用代码), GB 32100-2015: registration authority, entity
  category, 6-digit region code, the 9-character entity code (GB 11714 organisation code with
  its own check character), and a check character over a 31-character alphabet that leaves out
  I, O, Z, S and V (they look like 1, 0, 2, 5 and U).
- Mainland mobile numbers: 11 digits starting 13-19.

Each function raises ``django.core.exceptions.ValidationError`` with a Chinese message that
names what is wrong (``code`` tells the cases apart for tests and API clients) and returns the
normalised value (or its parsed parts) when valid. The check-character helpers are public so
the synthetic registry generator builds valid identifiers with the same code.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

# --- GB 11643 resident ID numbers ---------------------------------------------------------------

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)  # 2^(17-i) mod 11
ID_CHECK_CHARS = "10X98765432"  # indexed by (weighted sum mod 11)
EARLIEST_BIRTH = dt.date(1900, 1, 1)


def id_check_digit(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of the first 17 digits."""
    total = sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK_CHARS[total % 11]


@functools.cache
def _known_regions() -> frozenset[str]:
    from yiwang.regions.services import _read_gbt2260

    # 99xxxx rows of the list (苏鲁交界, 海域) are statistical areas, not places people live.
    return frozenset(code for code, _name in _read_gbt2260() if not code.startswith("99"))


@functools.cache
def _known_provinces() -> frozenset[str]:
    return frozenset(code[:2] for code in _known_regions() if code.endswith("0000"))


def region_code_status(code: str) -> str:
    """ "known" (a prefecture or county in the bundled GB/T 2260 list), "historic" (not in the
    list but inside a real province: codes of abolished or renamed counties, e.g. 350182 长乐市
    before 2017, stay on the ID cards issued under them), or "unknown"."""
    if code.endswith("0000"):
        return "unknown"  # a province code alone never addresses a person or a registration
    if code in _known_regions():
        return "known"
    if code[:2] in _known_provinces() and code[2:] != "0000":
        return "historic"
    return "unknown"


@dataclass(frozen=True)
class IdNumber:
    value: str  # normalised: upper-case X, no spaces
    region_code: str
    birth_date: dt.date
    sex: str  # "male" / "female" (odd / even sequence number)
    region_known: bool  # False for a historic code accepted by its province


def normalize_id_number(value: str) -> str:
    return re.sub(r"\s+", "", value or "").upper()


def validate_id_number(value: str, *, today: dt.date | None = None) -> IdNumber:
    """Check an 18-character resident ID number; return its parts or raise ValidationError."""
    v = normalize_id_number(value)
    if not v:
        raise ValidationError(_("请填写身份证号"), code="required")
    if len(v) != 18:
        raise ValidationError(_("身份证号应为18位，当前为%(n)d位") % {"n": len(v)}, code="length")
    for i, c in enumerate(v[:17], start=1):
        if not c.isdigit() or not c.isascii():
            raise ValidationError(
                _("身份证号第%(pos)d位含非法字符 %(char)s（前17位应为数字）") % {"pos": i, "char": c},
                code="character",
            )
    if not (v[17].isascii() and (v[17].isdigit() or v[17] == "X")):
        raise ValidationError(
            _("身份证号第18位含非法字符 %(char)s（应为数字或 X）") % {"char": v[17]}, code="character"
        )
    region = v[:6]
    status = region_code_status(region)
    if status == "unknown":
        raise ValidationError(
            _("身份证号前6位 %(code)s 不是有效的行政区划代码") % {"code": region}, code="region"
        )
    y, m, d = v[6:10], v[10:12], v[12:14]
    try:
        birth = dt.date(int(y), int(m), int(d))
    except ValueError:
        raise ValidationError(
            _("出生日期 %(date)s 不存在") % {"date": f"{y}-{m}-{d}"}, code="birth_date"
        ) from None
    today = today or timezone.localdate()
    if birth > today:
        raise ValidationError(
            _("出生日期 %(date)s 晚于今天") % {"date": birth.isoformat()}, code="birth_future"
        )
    if birth < EARLIEST_BIRTH:
        raise ValidationError(
            _("出生日期 %(date)s 早于1900年，不是有效的出生日期") % {"date": birth.isoformat()},
            code="birth_past",
        )
    expected = id_check_digit(v[:17])
    if v[17] != expected:
        raise ValidationError(
            _("身份证号校验位错误，应为%(check)s") % {"check": expected}, code="check_digit"
        )
    return IdNumber(
        value=v,
        region_code=region,
        birth_date=birth,
        sex="male" if int(v[16]) % 2 else "female",
        region_known=status == "known",
    )


# --- GB 32100 unified social credit codes -------------------------------------------------------

CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, Z, S, V
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)  # 3^i mod 31
# Registration authority (登记管理部门) → allowed entity categories (机构类别), GB 32100 Table 1.
CREDIT_AUTHORITIES: dict[str, str] = {
    "1": "1239",  # 机构编制：机关、事业单位、中央编办直接管理机构编制的群众团体、其他
    "2": "19",  # 外交
    "3": "1239",  # 司法行政：律师执业机构、公证处、基层法律服务所、其他
    "4": "19",  # 文化
    "5": "1239",  # 民政：社会团体、民办非企业单位、基金会、其他
    "6": "129",  # 旅游
    "7": "129",  # 宗教
    "8": "129",  # 工会
    "9": "123",  # 工商：企业、个体工商户、农民专业合作社
    "A": "129",  # 中央军委改革和编制办公室
    "N": "12349",  # 农业：农村集体经济组织等
    "Y": "1",  # 其他
}
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)  # GB 11714 organisation code


def credit_check_char(first17: str) -> str:
    total = sum(CREDIT_ALPHABET.index(c) * w for c, w in zip(first17, CREDIT_WEIGHTS, strict=True))
    return CREDIT_ALPHABET[(31 - total % 31) % 31]


def _org_value(c: str) -> int:
    # GB 11714 counts letters A=10 … Z=35 over the full Latin alphabet.
    return int(c) if c.isdigit() else ord(c) - ord("A") + 10


def org_check_char(first8: str) -> str:
    total = sum(_org_value(c) * w for c, w in zip(first8, ORG_WEIGHTS, strict=True))
    r = 11 - total % 11
    return "X" if r == 10 else "0" if r == 11 else str(r)


@dataclass(frozen=True)
class CreditCode:
    value: str
    authority: str
    category: str
    region_code: str
    org_code: str


def normalize_credit_code(value: str) -> str:
    return re.sub(r"\s+", "", value or "").upper()


def validate_credit_code(value: str) -> CreditCode:
    """Check an 18-character unified social credit code; return its parts or raise."""
    v = normalize_credit_code(value)
    if not v:
        raise ValidationError(_("请填写统一社会信用代码"), code="required")
    if len(v) != 18:
        raise ValidationError(_("统一社会信用代码应为18位，当前为%(n)d位") % {"n": len(v)}, code="length")
    for i, c in enumerate(v, start=1):
        if c not in CREDIT_ALPHABET:
            raise ValidationError(
                _("统一社会信用代码第%(pos)d位含非法字符 %(char)s") % {"pos": i, "char": c},
                code="character",
            )
    authority, category = v[0], v[1]
    if authority not in CREDIT_AUTHORITIES:
        raise ValidationError(
            _("统一社会信用代码第1位登记管理部门代码 %(char)s 无效") % {"char": authority},
            code="authority",
        )
    if category not in CREDIT_AUTHORITIES[authority]:
        raise ValidationError(
            _("统一社会信用代码第2位机构类别代码 %(char)s 与登记管理部门 %(auth)s 不符")
            % {"char": category, "auth": authority},
            code="category",
        )
    region = v[2:8]
    if not region.isdigit():
        raise ValidationError(
            _("统一社会信用代码第3至8位应为行政区划代码（6位数字），当前为 %(code)s") % {"code": region},
            code="region",
        )
    # Registrations at province level carry the province code (xx0000); 100000 is national.
    at_province = region.endswith("0000") and region[:2] in _known_provinces()
    if region_code_status(region) == "unknown" and not at_province and region != "100000":
        raise ValidationError(
            _("统一社会信用代码第3至8位 %(code)s 不是有效的行政区划代码") % {"code": region},
            code="region",
        )
    expected_org = org_check_char(v[8:16])
    if v[16] != expected_org:
        raise ValidationError(
            _("统一社会信用代码第17位（组织机构代码校验码）错误，应为%(check)s") % {"check": expected_org},
            code="org_check",
        )
    expected = credit_check_char(v[:17])
    if v[17] != expected:
        raise ValidationError(
            _("统一社会信用代码校验位错误，应为%(check)s") % {"check": expected}, code="check_digit"
        )
    return CreditCode(value=v, authority=authority, category=category, region_code=region, org_code=v[8:17])


# --- mobile phones ------------------------------------------------------------------------------


def normalize_phone(value: str) -> str:
    v = re.sub(r"[\s-]+", "", value or "")
    if v.startswith("+86"):
        v = v[3:]
    elif v.startswith("0086"):
        v = v[4:]
    return v


def validate_mobile_phone(value: str) -> str:
    """A mainland mobile number (11 digits, 13x–19x); ``+86`` and spaces are accepted and dropped."""
    v = normalize_phone(value)
    if not v:
        raise ValidationError(_("请填写手机号"), code="required")
    if not (v.isascii() and v.isdigit()):
        raise ValidationError(_("手机号只能包含数字"), code="character")
    if len(v) != 11:
        raise ValidationError(_("手机号应为11位，当前为%(n)d位") % {"n": len(v)}, code="length")
    if v[0] != "1" or v[1] not in "3456789":
        raise ValidationError(
            _("手机号号段 %(prefix)s 无效：大陆手机号以13至19开头") % {"prefix": v[:2]}, code="prefix"
        )
    return v
