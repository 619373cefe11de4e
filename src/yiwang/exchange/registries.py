"""Base registries as providers (基础库): 人口库, 法人库, 信用/监管库 and the e-certificate library.

The public interface the exchange API, prefill and the owners' imports call:

- ``REGISTRIES``: code -> ``Registry`` (name, owner department kind, field table with each
  field's type and sensitivity 公开/内部/敏感/个人敏感).
- ``lookup(registry, subjects, fields)``: the current records of up to 1,000 subjects (plain ID
  numbers or credit codes, hashed here), only the fields asked for.
- ``changes(registry, since, limit, fields)``: the change feed, in change-number order.
- ``upsert(registry, rows, department=, actor=)``: the owner department's data administrators
  update their registry; a changed record gets a new version, the previous one closes.

Storage (``RegistryRecord``): fields whose sensitivity is 公开 are kept clear in
``data_public``; all other fields are one AES-GCM blob per record version (``data_cipher``,
context ``exchange.registry.<code>``), decrypted only when a requested field is in it. Subjects
are found by the keyed hash of the ID number (the purpose ``identity.registries`` uses, so
``Person.id_number_hash`` finds a person's record) or of the credit code (the purpose of the
e-certificates' holders).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from yiwang.core import audit
from yiwang.core.crypto import decrypt, encrypt
from yiwang.core.errors import NotPermitted
from yiwang.identity.registries import id_number_hash
from yiwang.identity.validators import validate_credit_code, validate_id_number
from yiwang.regions.models import DepartmentKind

from .models import CertificateStatus, ECertificate, RegistryCounter, RegistryRecord

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

    from yiwang.regions.models import Department

MAX_SUBJECTS = 1000  # one lookup call
MAX_FEED_PAGE = 5000  # one change-feed page
TEXT_MAX = 500


class Sensitivity:
    PUBLIC = "public"
    INTERNAL = "internal"
    SENSITIVE = "sensitive"
    PERSONAL = "personal"
    LABELS: dict[str, Promise] = {
        PUBLIC: _("公开"),
        INTERNAL: _("内部"),
        SENSITIVE: _("敏感"),
        PERSONAL: _("个人敏感"),
    }


@dataclass(frozen=True)
class RegistryField:
    code: str
    name: Promise
    type: str  # text, date, decimal, choice, id_number, credit_code, region
    sensitivity: str
    required: bool = False
    choices: tuple[tuple[str, Promise], ...] = ()

    @property
    def clear(self) -> bool:
        """Stored clear (``data_public``) only when the field is public."""
        return self.sensitivity == Sensitivity.PUBLIC

    @property
    def sensitivity_label(self) -> str:
        return str(Sensitivity.LABELS[self.sensitivity])


@dataclass(frozen=True)
class Registry:
    code: str
    name: Promise
    owner_kind: str  # the province's department of this kind owns it; "" = the issuers (e-certificates)
    subject: str  # person, company, holder (either)
    subject_field: str  # the field holding the ID number / credit code ("" for e-certificates)
    key_field: str  # the field naming a record within its subject ("" = one record per subject)
    fields: tuple[RegistryField, ...]
    writable: bool = True

    def field(self, code: str) -> RegistryField:
        for f in self.fields:
            if f.code == code:
                return f
        raise KeyError(code)

    @property
    def field_codes(self) -> list[str]:
        return [f.code for f in self.fields]

    @property
    def context(self) -> str:
        return f"exchange.registry.{self.code}"

    def subject_hash(self, subject: str) -> str:
        from .services import company_hash

        return id_number_hash(subject) if self.subject == "person" else company_hash(subject)


P, N, S, X = Sensitivity.PUBLIC, Sensitivity.INTERNAL, Sensitivity.SENSITIVE, Sensitivity.PERSONAL
F = RegistryField

POPULATION_STATUS = (("normal", _("正常")), ("moved_out", _("迁出")), ("deceased", _("死亡注销")))
ENTITY_STATUS = (("active", _("存续")), ("revoked", _("吊销")), ("cancelled", _("注销")))
ENTITY_TYPES = (
    ("llc", _("有限责任公司")),
    ("jsc", _("股份有限公司")),
    ("individual", _("个体工商户")),
    ("cooperative", _("农民专业合作社")),
    ("other", _("其他")),
)
CREDIT_KINDS = (
    ("licence", _("行政许可")),
    ("penalty", _("行政处罚")),
    ("abnormal", _("经营异常名录")),
)
GENDERS = (("male", _("男")), ("female", _("女")))

REGISTRIES: dict[str, Registry] = {
    r.code: r
    for r in (
        Registry(
            "population",
            _("人口库"),
            DepartmentKind.PUBLIC_SECURITY,
            "person",
            "id_number",
            "",
            (
                F("id_number", _("公民身份号码"), "id_number", X, required=True),
                F("name", _("姓名"), "text", X, required=True),
                F("gender", _("性别"), "choice", X, choices=GENDERS),
                F("birth_date", _("出生日期"), "date", X),
                F("ethnicity", _("民族"), "text", X),
                F("address", _("住址"), "text", X),
                F("household_region", _("户籍地区划"), "region", S),
                F("status", _("户籍状态"), "choice", N, required=True, choices=POPULATION_STATUS),
            ),
        ),
        Registry(
            "legal_entity",
            _("法人库"),
            DepartmentKind.MARKET_REGULATION,
            "company",
            "credit_code",
            "",
            (
                F("credit_code", _("统一社会信用代码"), "credit_code", P, required=True),
                F("name", _("名称"), "text", P, required=True),
                F("entity_type", _("主体类型"), "choice", P, choices=ENTITY_TYPES),
                F("legal_representative", _("法定代表人"), "text", S),
                F("registered_capital", _("注册资本（万元）"), "decimal", P),
                F("address", _("住所"), "text", P),
                F("established_on", _("成立日期"), "date", P),
                F("status", _("登记状态"), "choice", P, required=True, choices=ENTITY_STATUS),
                F("region_code", _("登记地区划"), "region", P),
            ),
        ),
        Registry(
            "credit",
            _("信用/监管库"),
            DepartmentKind.DEVELOPMENT_REFORM,
            "company",
            "credit_code",
            "decision_number",
            (
                F("credit_code", _("统一社会信用代码"), "credit_code", P, required=True),
                F("kind", _("记录类别"), "choice", P, required=True, choices=CREDIT_KINDS),
                F("subject_name", _("主体名称"), "text", P, required=True),
                F("decision_number", _("决定文书号"), "text", P, required=True),
                F("authority", _("决定机关"), "text", P),
                F("content", _("内容"), "text", N),
                F("decided_on", _("决定日期"), "date", P),
                F("valid_until", _("公示截止日期"), "date", P),
            ),
        ),
        Registry(
            "e_certificate",
            _("电子证照库"),
            "",
            "holder",
            "",
            "number",
            (
                F("cert_type", _("证照类型"), "text", P),
                F("number", _("证照编号"), "text", N),
                F("holder_name", _("持证主体名称"), "text", X),
                F("issuer_name", _("发证机关"), "text", P),
                F("issued_on", _("发证日期"), "date", P),
                F("valid_from", _("有效期起"), "date", P),
                F("valid_until", _("有效期至"), "date", P),
                F("status", _("状态"), "choice", P, choices=tuple(CertificateStatus.choices)),
            ),
            writable=False,
        ),
    )
}
del P, N, S, X, F


def get_registry(code: str) -> Registry:
    try:
        return REGISTRIES[code]
    except KeyError:
        raise ValueError(f"unknown registry {code!r}") from None


def owner_department(registry: Registry | str) -> Department | None:
    """The province's department of the registry's owner kind (None for the e-certificates, whose
    issuers own them, or when the region tree has no such department)."""
    from yiwang.regions.models import Department

    reg = get_registry(registry) if isinstance(registry, str) else registry
    if not reg.owner_kind:
        return None
    return (
        Department.objects.filter(kind=reg.owner_kind, region__code=settings.YIWANG_PROVINCE_CODE)
        .select_related("region")
        .order_by("pk")
        .first()
    )


def _check_fields(reg: Registry, fields: Sequence[str]) -> None:
    if isinstance(fields, str):
        raise ValueError("fields must be a list of field codes")
    unknown = [f for f in fields if f not in reg.field_codes]
    if unknown:
        raise ValueError(f"unknown fields for registry {reg.code!r}: {', '.join(map(str, unknown))}")
    if not fields:
        raise ValueError("no fields requested")


def _fields_of(
    reg: Registry, wanted: Sequence[str], public: dict[str, Any], cipher: str, secret_needed: bool
) -> dict[str, Any]:
    data = dict(public)
    if secret_needed and cipher:
        data.update(json.loads(decrypt(cipher, context=reg.context)))
    return {f: data.get(f) for f in wanted}


# --- lookup -------------------------------------------------------------------------------------


def lookup(registry: str, subjects: list[str], fields: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The current records of ``subjects`` (as the caller names them: plain ID numbers or credit
    codes), each a dict of only ``fields`` plus ``_version`` and ``_valid_from`` (ISO time).

    A subject without a current record is absent from the answer. Population and legal-entity
    subjects have at most one record, credit subjects and certificate holders many (oldest
    first). Unknown registry or fields, or more than ``MAX_SUBJECTS`` subjects: ``ValueError``.
    One query per call; the encrypted part is decrypted only when a requested field is in it."""
    reg = get_registry(registry)
    _check_fields(reg, fields)
    if len(subjects) > MAX_SUBJECTS:
        raise ValueError(f"at most {MAX_SUBJECTS} subjects per lookup")
    if reg.code == "e_certificate":
        return _lookup_certificates(reg, subjects, fields)
    by_hash: dict[str, list[str]] = {}
    for s in subjects:
        by_hash.setdefault(reg.subject_hash(s), []).append(s)
    if not by_hash:
        return {}
    secret_needed = any(not reg.field(f).clear for f in fields)
    columns = ["subject_hash", "version", "valid_from", "data_public"]
    if secret_needed:
        columns.append("data_cipher")
    rows = (
        RegistryRecord.objects.filter(
            registry=reg.code, subject_hash__in=list(by_hash), valid_until__isnull=True
        )
        .order_by("valid_from", "pk")
        .values_list(*columns)
    )
    out: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        subject_hash, version, valid_from, public = row[0], row[1], row[2], row[3]
        record = _fields_of(reg, fields, public, row[4] if secret_needed else "", secret_needed)
        record["_version"] = version
        record["_valid_from"] = valid_from.isoformat()
        for s in by_hash[subject_hash]:
            out.setdefault(s, []).append(dict(record))
    return out


def _certificate_fields(cert_row: dict[str, Any], wanted: Sequence[str]) -> dict[str, Any]:
    from .services import DATA_CONTEXT

    values: dict[str, Any] = {
        "cert_type": cert_row["cert_type"],
        "number": cert_row["number"],
        "issuer_name": cert_row["issuer_name"],
        "issued_on": cert_row["issued_on"].isoformat(),
        "valid_from": cert_row["valid_from"].isoformat(),
        "valid_until": cert_row["valid_until"].isoformat() if cert_row["valid_until"] else None,
        "status": cert_row["status"],
    }
    if "holder_name" in wanted:
        data = (
            json.loads(decrypt(cert_row["data_cipher"], context=DATA_CONTEXT))
            if cert_row["data_cipher"]
            else {}
        )
        values["holder_name"] = data.get("holder_name")
    return {f: values.get(f) for f in wanted}


def _lookup_certificates(
    reg: Registry, subjects: list[str], fields: list[str]
) -> dict[str, list[dict[str, Any]]]:
    """The e-certificate library through the same interface: a subject's valid certificates. A
    subject may be a person's ID number or a company's credit code, so both keyed hashes are
    asked for (a certificate's holder kind says which one it carries)."""
    from .services import company_hash

    by_hash: dict[str, list[str]] = {}
    for s in subjects:
        by_hash.setdefault(id_number_hash(s), []).append(s)
        by_hash.setdefault(company_hash(s), []).append(s)
    today = timezone.localdate()
    columns = [
        "holder_hash",
        "cert_type",
        "number",
        "issuer_name",
        "issued_on",
        "valid_from",
        "valid_until",
        "status",
    ]
    if "holder_name" in fields:
        columns.append("data_cipher")
    rows = (
        ECertificate.objects.filter(
            holder_hash__in=list(by_hash), status=CertificateStatus.VALID, valid_from__lte=today
        )
        .exclude(valid_until__lt=today)
        .order_by("issued_on", "pk")
        .values(*columns)
    )
    out: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        record = _certificate_fields(row, fields)
        record["_version"] = 1
        record["_valid_from"] = row["valid_from"].isoformat()
        for s in by_hash[row["holder_hash"]]:
            out.setdefault(s, []).append(dict(record))
    return out


# --- change feed --------------------------------------------------------------------------------


def changes(registry: str, since: int, limit: int, fields: list[str]) -> tuple[list[dict[str, Any]], int]:
    """Records written after change number ``since``, in change-number order: new versions
    (``_op`` upsert) and closed ones (``_op`` close, the closed version's fields), each with
    ``_seq``, ``_subject_hash``, ``_key``, ``_version`` and the requested fields. Returns
    ``(rows, next_cursor)``; ``next_cursor`` is the last row's ``_seq`` (``since`` when there is
    none), to be passed as ``since`` for the next page.

    No row is skipped: change numbers are taken under the registry's counter lock in the
    writing transaction, so when a reader sees number n every lower number has committed."""
    reg = get_registry(registry)
    _check_fields(reg, fields)
    if not reg.writable:
        raise ValueError(f"registry {reg.code!r} has no change feed")
    limit = max(1, min(int(limit), MAX_FEED_PAGE))
    secret_needed = any(not reg.field(f).clear for f in fields)
    columns = [
        "change_seq",
        "subject_hash",
        "record_key",
        "version",
        "valid_from",
        "valid_until",
        "data_public",
    ]
    if secret_needed:
        columns.append("data_cipher")
    rows = (
        RegistryRecord.objects.filter(registry=reg.code, change_seq__gt=since)
        .order_by("change_seq")
        .values_list(*columns)[:limit]
    )
    out: list[dict[str, Any]] = []
    cursor = since
    for row in rows:
        seq, subject_hash, key, version, valid_from, valid_until, public = row[:7]
        record = _fields_of(reg, fields, public, row[7] if secret_needed else "", secret_needed)
        record.update(
            {
                "_seq": seq,
                "_subject_hash": subject_hash,
                "_key": key,
                "_version": version,
                "_op": "close" if valid_until is not None else "upsert",
                "_valid_from": valid_from.isoformat(),
                "_valid_until": valid_until.isoformat() if valid_until else None,
            }
        )
        out.append(record)
        cursor = seq
    return out, cursor


# --- owner updates ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    row: int  # the row number the caller gave (a sheet's row), else the position from 1
    field: str  # field code, "" for the whole row
    message: str  # in the user's language


@dataclass
class UpsertResult:
    created: int = 0  # records that had no current version
    updated: int = 0  # records given a new version
    closed: int = 0  # records closed without a successor (``_op`` close)
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def may_write(user: User | AnonymousUser | None, registry: Registry | str) -> bool:
    """A data administrator (数据管理员) of the registry's owner department: a role given for
    that department itself, not a region-wide one."""
    from yiwang.identity.models import Role, StaffRole

    reg = get_registry(registry) if isinstance(registry, str) else registry
    owner = owner_department(reg)
    if owner is None or user is None or user.pk is None or not user.is_active:
        return False
    return StaffRole.objects.filter(user_id=user.pk, role=Role.DATA_ADMIN, department_id=owner.pk).exists()


def _clean_value(f: RegistryField, value: Any) -> Any:
    """The stored form of one value (str, ISO date, or None); ``ValidationError`` with a
    message in the user's language."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if f.required:
            raise ValidationError(gettext("必填"))
        return None
    if f.type == "date":
        if isinstance(value, dt.datetime):
            return value.date().isoformat()
        if isinstance(value, dt.date):
            return value.isoformat()
        text = str(value).strip().replace("/", "-").replace(".", "-")
        try:
            return dt.date.fromisoformat(text).isoformat()
        except ValueError:
            raise ValidationError(
                gettext("日期“%(v)s”无效，请写成 2024-05-01") % {"v": str(value)[:20]}
            ) from None
    text = str(value).strip()
    if f.type == "id_number":
        return validate_id_number(text).value
    if f.type == "credit_code":
        return validate_credit_code(text).value
    if f.type == "choice":
        for code, label in f.choices:
            if text == code or text == str(label):
                return code
        raise ValidationError(
            gettext("“%(v)s”不是可选值（%(choices)s）")
            % {"v": text[:20], "choices": "、".join(str(label) for _c, label in f.choices)}
        )
    if f.type == "decimal":
        try:
            number = Decimal(text.replace(",", ""))
        except InvalidOperation:
            raise ValidationError(gettext("“%(v)s”不是数字") % {"v": text[:20]}) from None
        if not number.is_finite() or number < 0:
            raise ValidationError(gettext("应为不小于 0 的数字"))
        return str(number)
    if f.type == "region":
        if not (len(text) == 6 and text.isdigit()):
            raise ValidationError(gettext("区划代码应为6位数字"))
        return text
    if len(text) > TEXT_MAX:
        raise ValidationError(gettext("不能超过 %(n)d 个字") % {"n": TEXT_MAX})
    return text


def clean_rows(
    reg: Registry, rows: Sequence[dict[str, Any]]
) -> tuple[list[tuple[int, str, dict[str, Any]]], list[RowError]]:
    """Each row checked: ``[(row number, op, values)]`` and the errors. A row may name its row
    number (``_row``, a sheet's) and ``_op`` ("close" closes the record it names)."""
    cleaned: list[tuple[int, str, dict[str, Any]]] = []
    errors: list[RowError] = []
    keys_seen: dict[str, int] = {}
    for position, row in enumerate(rows, start=1):
        number = int(row.get("_row") or position)
        op = str(row.get("_op") or "upsert")
        if op not in ("upsert", "close"):
            errors.append(
                RowError(number, "_op", gettext("操作“%(v)s”无效（upsert 或 close）") % {"v": op[:20]})
            )
            continue
        unknown = [k for k in row if not k.startswith("_") and k not in reg.field_codes]
        for k in unknown:
            errors.append(RowError(number, str(k), gettext("未知字段“%(f)s”") % {"f": str(k)[:40]}))
        values: dict[str, Any] = {}
        row_ok = not unknown
        for f in reg.fields:
            needed = f.required and (op == "upsert" or f.code in (reg.subject_field, reg.key_field))
            try:
                value = (
                    _clean_value(f, row.get(f.code))
                    if (needed or row.get(f.code) not in (None, ""))
                    else None
                )
                if needed and value is None:
                    raise ValidationError(gettext("必填"))
            except ValidationError as exc:
                errors.append(RowError(number, f.code, f"{f.name}：{'；'.join(exc.messages)}"))
                row_ok = False
                continue
            values[f.code] = value
        if not row_ok:
            continue
        key = record_key(reg, values)
        if key in keys_seen:
            errors.append(
                RowError(
                    number,
                    reg.key_field or reg.subject_field,
                    gettext("与第 %(n)d 行重复") % {"n": keys_seen[key]},
                )
            )
            continue
        keys_seen[key] = number
        cleaned.append((number, op, values))
    return cleaned, errors


def record_key(reg: Registry, values: dict[str, Any], subject_hash: str | None = None) -> str:
    """A record's name within its registry: its subject's hash when a subject has one record,
    else the subject hash with the record's key field (a decision number), hashed again so the
    key says nothing the public fields do not."""
    subject_hash = subject_hash or reg.subject_hash(values[reg.subject_field])
    if not reg.key_field:
        return subject_hash
    import hashlib

    return hashlib.sha256(f"{subject_hash}:{values[reg.key_field]}".encode()).hexdigest()


def split_values(reg: Registry, values: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """(clear public fields, encrypted rest) of one record's values."""
    public = {k: v for k, v in values.items() if v is not None and reg.field(k).clear}
    secret = {k: v for k, v in values.items() if v is not None and not reg.field(k).clear}
    cipher = (
        encrypt(json.dumps(secret, ensure_ascii=False, sort_keys=True), context=reg.context) if secret else ""
    )
    return public, cipher


def _stored_values(reg: Registry, record: RegistryRecord) -> dict[str, Any]:
    data = dict(record.data_public)
    if record.data_cipher:
        data.update(json.loads(decrypt(record.data_cipher, context=reg.context)))
    return {k: v for k, v in data.items() if v is not None}


def locked_counter(registry: str) -> RegistryCounter:
    """The registry's counter row, locked until the transaction ends (callers are inside one)."""
    RegistryCounter.objects.get_or_create(registry=registry)
    return RegistryCounter.objects.select_for_update().get(registry=registry)


def upsert(
    registry: str, rows: list[dict[str, Any]], *, department: Department, actor: User | AnonymousUser | None
) -> UpsertResult:
    """Write the owner's rows in one transaction, all or nothing.

    Only a data administrator of the registry's owner department writes (``NotPermitted``
    otherwise, also when ``department`` is not the owner). Every row is checked first (ID number
    and credit code check characters, dates, choices, unknown fields, a record named twice); any
    error returns them all with their row numbers and writes nothing. A row equal to the current
    record is a no-op; a changed one adds a version and closes the previous (``valid_until``);
    ``_op`` "close" closes the record. The batch is audited with its counts only."""
    reg = get_registry(registry)
    owner = owner_department(reg)
    if not reg.writable or owner is None or department.pk != owner.pk or not may_write(actor, reg):
        raise NotPermitted(gettext("只有数源部门的数据管理员可以更新%(r)s。") % {"r": reg.name})
    cleaned, errors = clean_rows(reg, rows)
    if errors:
        return UpsertResult(errors=errors)
    result = UpsertResult()
    with transaction.atomic():
        counter = locked_counter(reg.code)
        keys = {record_key(reg, values): (number, op, values) for number, op, values in cleaned}
        # In slices: PostgreSQL takes at most 65,535 parameters in one statement.
        key_list = list(keys)
        current: dict[str, RegistryRecord] = {}
        for start in range(0, len(key_list), 5000):
            current.update(
                (r.record_key, r)
                for r in RegistryRecord.objects.filter(
                    registry=reg.code, record_key__in=key_list[start : start + 5000], valid_until__isnull=True
                )
            )
        now = timezone.now()
        to_close: list[RegistryRecord] = []
        to_insert: list[RegistryRecord] = []
        seq = counter.last_seq
        for key, (_number, op, values) in keys.items():
            previous = current.get(key)
            present = {k: v for k, v in values.items() if v is not None}
            if op == "close":
                if previous is None:
                    result.unchanged += 1
                    continue
                seq += 1
                previous.valid_until, previous.change_seq, previous.updated_at = now, seq, now
                to_close.append(previous)
                result.closed += 1
                continue
            if previous is not None and _stored_values(reg, previous) == present:
                result.unchanged += 1
                continue
            if previous is not None:
                seq += 1
                previous.valid_until, previous.change_seq, previous.updated_at = now, seq, now
                to_close.append(previous)
                result.updated += 1
            else:
                result.created += 1
            public, cipher = split_values(reg, present)
            seq += 1
            to_insert.append(
                RegistryRecord(
                    registry=reg.code,
                    record_key=key,
                    subject_hash=reg.subject_hash(values[reg.subject_field]),
                    department=owner,
                    version=(previous.version + 1) if previous is not None else 1,
                    valid_from=now,
                    data_public=public,
                    data_cipher=cipher,
                    updated_at=now,
                    change_seq=seq,
                )
            )
        # Closures first: the unique (registry, change_seq) never sees two rows with one number.
        RegistryRecord.objects.bulk_update(
            to_close, ["valid_until", "change_seq", "updated_at"], batch_size=500
        )
        RegistryRecord.objects.bulk_create(to_insert, batch_size=500)
        if seq != counter.last_seq:
            counter.last_seq = seq
            counter.records += result.created - result.closed
            counter.updated_at = now
            counter.save(update_fields=["last_seq", "records", "updated_at"])
        audit.record(
            "exchange.registry.upsert",
            object_type="exchange.registryrecord",
            object_id=reg.code,
            summary=gettext("更新%(r)s：新增 %(c)d，变更 %(u)d，注销 %(x)d，未变 %(n)d")
            % {
                "r": reg.name,
                "c": result.created,
                "u": result.updated,
                "x": result.closed,
                "n": result.unchanged,
            },
            detail={
                "registry": reg.code,
                "department": owner.pk,
                "rows": len(cleaned),
                "created": result.created,
                "updated": result.updated,
                "closed": result.closed,
                "unchanged": result.unchanged,
                "actor": getattr(actor, "pk", None),
            },
        )
    return result


def counters() -> dict[str, RegistryCounter]:
    return {c.registry: c for c in RegistryCounter.objects.all()}


def iter_field_labels(reg: Registry) -> Iterable[tuple[str, str]]:
    return ((f.code, str(f.name)) for f in reg.fields)
