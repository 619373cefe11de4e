"""Writes about accounts: registering people and companies (with real-name verification against
the base registries), mandates (granting, revoking, and the check who may act for a company),
assurance levels, and re-encrypting personal data under a new key.

Every function checks its own permissions and raises ``DomainError`` / ``ValidationFailed`` /
``NotPermitted`` (with the field at fault) before writing anything; each user action is one
transaction, audited with masked values only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core import audit
from yiwang.core.crypto import (
    blind_index,
    current_key_id,
    decrypt,
    encrypt,
    key_id_of,
    mask_id_number,
    mask_phone,
)
from yiwang.core.errors import DomainError, FieldError, NotPermitted, ValidationFailed

from .models import AssuranceLevel, Company, Mandate, Person, TotpDevice
from .registries import (
    CompanyOutcome,
    PersonOutcome,
    id_number_hash,
    legal_entity_registry,
    population_registry,
)
from .validators import validate_credit_code, validate_id_number, validate_mobile_phone

ID_NUMBER_CONTEXT = "person.id_number"  # AES-GCM associated data: a ciphertext stays in its column
PHONE_CONTEXT = "person.phone"
PHONE_PURPOSE = "phone"
TOTP_CONTEXT = "totp"  # identity.mfa.CONTEXT
MAX_MANDATE_DAYS = 3 * 365 + 1  # three years, leap day included
MAX_NAME_LENGTH = 64


def phone_hash(phone: str) -> str:
    return blind_index(phone, purpose=PHONE_PURPOSE)


def id_number_of(person: Person) -> str:
    """The plain ID number, for a registry check or an authorised export; never for display."""
    return decrypt(person.id_number_cipher, context=ID_NUMBER_CONTEXT)


def _errors_of(field_name: str, exc: ValidationError) -> list[FieldError]:
    return [FieldError(field_name, str(m), getattr(exc, "code", None) or "invalid") for m in exc.messages]


def _clean_name(name: str) -> str:
    return "".join((name or "").split())


# --- people -------------------------------------------------------------------------------------


def _check_registration(username: str, password: str, name: str, id_number: str, phone: str):
    errors: list[FieldError] = []
    User = get_user_model()
    if not username:
        errors.append(FieldError("username", _("请填写用户名"), "required"))
    else:
        try:
            UnicodeUsernameValidator()(username)
        except ValidationError:
            errors.append(FieldError("username", _("用户名只能包含字母、数字、汉字和 @ . + - _"), "invalid"))
        if len(username) > 150:
            errors.append(FieldError("username", _("用户名最多150个字符"), "length"))
        elif User._default_manager.filter(username__iexact=username).exists():
            errors.append(FieldError("username", _("该用户名已被使用，请换一个"), "username_taken"))
    if not name:
        errors.append(FieldError("name", _("请填写姓名"), "required"))
    elif len(name) > MAX_NAME_LENGTH:
        errors.append(FieldError("name", _("姓名过长"), "length"))
    info = None
    try:
        info = validate_id_number(id_number)
    except ValidationError as exc:
        errors += _errors_of("id_number", exc)
    clean_phone = ""
    try:
        clean_phone = validate_mobile_phone(phone)
    except ValidationError as exc:
        errors += _errors_of("phone", exc)
    try:
        validate_password(password, user=User(username=username, last_name=name))
    except ValidationError as exc:
        errors += _errors_of("password", exc)
    return errors, info, clean_phone


def register_person(*, username: str, password: str, name: str, id_number: str, phone: str) -> Person:
    """Create a login and a verified person, or refuse with one message per field at fault.

    The name and ID number are checked against the population registry first: a person the
    registry does not confirm gets no account at all (nothing is written but the audit entry
    of the refusal). An ID number already registered is refused without saying by whom.
    """
    username = (username or "").strip()
    name = _clean_name(name)
    errors, info, clean_phone = _check_registration(username, password, name, id_number, phone)
    if errors:
        raise ValidationFailed(errors)
    assert info is not None
    masked = mask_id_number(info.value)
    id_hash = id_number_hash(info.value)
    if Person.objects.filter(id_number_hash=id_hash).exists():
        raise DomainError(
            _("该身份证号已注册。如忘记用户名或密码，请到登录页找回，或到政务服务大厅办理。"),
            field="id_number",
            code="id_registered",
        )
    check = population_registry().verify_person(name, info.value)
    if not check.ok:
        problem = {
            PersonOutcome.NOT_FOUND: ("id_number", _("人口库中没有该身份证号，请核对后重新填写")),
            PersonOutcome.NAME_MISMATCH: ("name", _("姓名与身份证号不一致，请核对后重新填写")),
            PersonOutcome.DECEASED: ("id_number", _("实名核验未通过：该身份证号不能用于注册")),
        }[check.outcome]
        audit.record(
            "identity.person.verify_failed",
            object_type="identity.person",
            summary=f"{masked} {check.outcome}",
            detail={"id_number": masked, "outcome": str(check.outcome)},
        )
        raise DomainError(problem[1], field=problem[0], code=str(check.outcome))
    now = timezone.now()
    try:
        with transaction.atomic():
            user = get_user_model().objects.create_user(username=username, password=password, last_name=name)
            person = Person.objects.create(
                user=user,
                name=name,
                id_number_cipher=encrypt(info.value, context=ID_NUMBER_CONTEXT),
                id_number_hash=id_hash,
                id_number_masked=masked,
                phone_cipher=encrypt(clean_phone, context=PHONE_CONTEXT),
                phone_hash=phone_hash(clean_phone),
                phone_masked=mask_phone(clean_phone),
                birth_date=check.birth_date or info.birth_date,
                region_code=check.region_code or info.region_code,
                assurance_level=AssuranceLevel.VERIFIED,
                verified_at=now,
                key_id=current_key_id(),
            )
            audit.record(
                "identity.person.register",
                person,
                summary=f"{name} {masked}",
                detail={
                    "id_number": masked,
                    "phone": person.phone_masked,
                    "assurance_level": int(AssuranceLevel.VERIFIED),
                },
            )
    except IntegrityError:
        # Two submissions raced past the checks above: the unique constraints decided.
        raise DomainError(
            _("该用户名或身份证号刚刚已被注册，请勿重复提交。"), field="id_number", code="duplicate"
        ) from None
    return person


def refresh_assurance(person: Person) -> int:
    """Recompute the account's assurance level: 3 when real-name verified and a confirmed TOTP
    device exists, 2 when verified, else 1. Called after verification and by identity.mfa."""
    verified = person.verified_at is not None
    has_totp = TotpDevice.objects.filter(user_id=person.user_id, confirmed_at__isnull=False).exists()
    level = (
        AssuranceLevel.TWO_FACTOR
        if verified and has_totp
        else AssuranceLevel.VERIFIED
        if verified
        else AssuranceLevel.REGISTERED
    )
    if person.assurance_level != level:
        old = person.assurance_level
        with transaction.atomic():
            Person.objects.filter(pk=person.pk).update(assurance_level=level)
            person.assurance_level = level
            audit.record(
                "identity.person.assurance",
                person,
                summary=f"{person.id_number_masked} {old} → {int(level)}",
                detail={"from": int(old), "to": int(level)},
            )
    return int(level)


def verify_person(person: Person, *, now: dt.datetime | None = None) -> PersonOutcome:
    """Check an existing account against the population registry again (a periodic re-check,
    or an account created without verification). A match (re)sets ``verified_at``; any other
    answer withdraws the verification, so the level drops to 1 until it is sorted out."""
    check = population_registry().verify_person(person.name, id_number_of(person))
    verified_at = (now or timezone.now()) if check.ok else None
    with transaction.atomic():
        Person.objects.filter(pk=person.pk).update(verified_at=verified_at)
        person.verified_at = verified_at
        audit.record(
            "identity.person.verify",
            person,
            summary=f"{person.id_number_masked} {check.outcome}",
            detail={"id_number": person.id_number_masked, "outcome": str(check.outcome)},
        )
        refresh_assurance(person)
    return check.outcome


# --- companies ----------------------------------------------------------------------------------


def register_company(*, person: Person, credit_code: str, name: str) -> Company:
    """Register a company by its legal representative, checked against the legal-entity registry.

    Registering the same company again by the same person returns it (a double submit).
    """
    name = _clean_name(name)
    errors: list[FieldError] = []
    info = None
    try:
        info = validate_credit_code(credit_code)
    except ValidationError as exc:
        errors += _errors_of("credit_code", exc)
    if not name:
        errors.append(FieldError("name", _("请填写法人名称"), "required"))
    if errors:
        raise ValidationFailed(errors)
    assert info is not None
    if person.assurance_level < AssuranceLevel.VERIFIED:
        raise NotPermitted(_("请先完成实名核验，再注册法人。"))
    existing = Company.objects.filter(credit_code=info.value).first()
    if existing is not None:
        if existing.legal_representative_id == person.pk:
            return existing
        raise DomainError(
            _("该法人已在平台注册。如法定代表人已变更，请到政务服务大厅办理变更。"),
            field="credit_code",
            code="company_registered",
        )
    check = legal_entity_registry().verify_company(info.value, name, person.name, id_number_of(person))
    if not check.ok:
        problem = {
            CompanyOutcome.NOT_FOUND: ("credit_code", _("法人库中没有该统一社会信用代码，请核对后重新填写")),
            CompanyOutcome.NAME_MISMATCH: ("name", _("法人名称与法人库登记的名称不一致，请按营业执照填写")),
            CompanyOutcome.LEGAL_REP_MISMATCH: (
                "",
                _("您不是该法人在法人库中登记的法定代表人，不能注册该法人。请由法定代表人注册后授权您办理。"),
            ),
            CompanyOutcome.INACTIVE: ("credit_code", _("该法人登记状态为吊销或注销，不能注册")),
        }[check.outcome]
        audit.record(
            "identity.company.verify_failed",
            object_type="identity.company",
            object_id=info.value,
            summary=f"{info.value} {check.outcome}",
            detail={"outcome": str(check.outcome), "by": person.id_number_masked},
        )
        if check.outcome is CompanyOutcome.LEGAL_REP_MISMATCH:
            raise NotPermitted(problem[1], code=str(check.outcome))
        raise DomainError(problem[1], field=problem[0], code=str(check.outcome))
    try:
        with transaction.atomic():
            company = Company.objects.create(
                name=name,
                credit_code=info.value,
                legal_representative=person,
                region_code=check.region_code or info.region_code,
                verified_at=timezone.now(),
            )
            audit.record(
                "identity.company.register",
                company,
                summary=f"{info.value} {name}",
                detail={"legal_representative": person.id_number_masked},
            )
    except IntegrityError:
        existing = Company.objects.filter(credit_code=info.value, legal_representative=person).first()
        if existing is not None:
            return existing
        raise DomainError(_("该法人已在平台注册。"), field="credit_code", code="company_registered") from None
    return company


# --- mandates -----------------------------------------------------------------------------------


def is_legal_representative(person: Person | None, company: Company) -> bool:
    return person is not None and company.legal_representative_id == person.pk


def _require_legal_rep(person: Person, company: Company) -> None:
    if not is_legal_representative(person, company):
        raise NotPermitted(_("只有%(company)s的法定代表人可以管理其经办人授权。") % {"company": company.name})


def grant_mandate(
    *,
    company: Company,
    by: Person,
    agent_id_number: str,
    all_items: bool = False,
    standard_items: Iterable = (),
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    now: dt.datetime | None = None,
) -> Mandate:
    """The legal representative lets a registered person act for the company, for all items or
    for the listed standard items, from ``starts_at`` to ``ends_at`` (at most three years).

    Granting exactly the same active mandate twice returns the first one (a double submit)."""
    _require_legal_rep(by, company)
    now = now or timezone.now()
    items = list(standard_items)
    errors: list[FieldError] = []
    agent = None
    try:
        info = validate_id_number(agent_id_number)
    except ValidationError as exc:
        errors += _errors_of("agent_id_number", exc)
    else:
        agent = Person.objects.filter(id_number_hash=id_number_hash(info.value)).first()
        if agent is None:
            errors.append(
                FieldError(
                    "agent_id_number",
                    _("该身份证号尚未在平台注册：请经办人先注册并完成实名核验，再为其授权"),
                    "agent_not_registered",
                )
            )
        elif agent.pk == by.pk:
            errors.append(FieldError("agent_id_number", _("法定代表人无需为自己授权"), "self"))
        elif agent.assurance_level < AssuranceLevel.VERIFIED:
            errors.append(FieldError("agent_id_number", _("经办人尚未完成实名核验"), "agent_unverified"))
    if not all_items and not items:
        errors.append(FieldError("standard_items", _("请选择授权事项，或选择“全部事项”"), "required"))
    if ends_at <= starts_at:
        errors.append(FieldError("ends_at", _("截止时间应晚于生效时间"), "order"))
    elif ends_at <= now:
        errors.append(FieldError("ends_at", _("截止时间已过，请重新选择"), "past"))
    elif ends_at - starts_at > dt.timedelta(days=MAX_MANDATE_DAYS):
        errors.append(FieldError("ends_at", _("授权期限最长3年"), "too_long"))
    if errors:
        raise ValidationFailed(errors)
    assert agent is not None
    item_ids = sorted({i.pk for i in items}) if not all_items else []
    with transaction.atomic():
        # Lock the company row so two identical submissions cannot both pass the duplicate check.
        Company.objects.select_for_update().filter(pk=company.pk).values_list("pk").get()
        for m in Mandate.objects.filter(
            company=company,
            agent=agent,
            all_items=all_items,
            starts_at=starts_at,
            ends_at=ends_at,
            revoked_at__isnull=True,
        ):
            if sorted(m.standard_items.values_list("pk", flat=True)) == item_ids:
                return m
        mandate = Mandate.objects.create(
            company=company,
            agent=agent,
            all_items=all_items,
            starts_at=starts_at,
            ends_at=ends_at,
            granted_by=by,
        )
        if item_ids:
            mandate.standard_items.set(item_ids)
        audit.record(
            "identity.mandate.grant",
            mandate,
            summary=f"{company.credit_code} → {agent.id_number_masked}",
            detail={
                "company": company.credit_code,
                "agent": agent.id_number_masked,
                "all_items": all_items,
                "standard_items": [i.basic_code for i in items] if not all_items else [],
                "starts_at": starts_at,
                "ends_at": ends_at,
            },
        )
    return mandate


def revoke_mandate(mandate: Mandate, *, by: Person, now: dt.datetime | None = None) -> Mandate:
    """End a mandate now. Only the company's legal representative may; revoking twice is a no-op."""
    _require_legal_rep(by, mandate.company)
    with transaction.atomic():
        locked = Mandate.objects.select_for_update().get(pk=mandate.pk)
        if locked.revoked_at is not None:
            return locked
        locked.revoked_at = now or timezone.now()
        locked.revoked_by = by
        locked.save(update_fields=["revoked_at", "revoked_by"])
        audit.record(
            "identity.mandate.revoke",
            locked,
            summary=f"{mandate.company.credit_code} → {locked.agent.id_number_masked}",
            detail={"company": mandate.company.credit_code, "agent": locked.agent.id_number_masked},
        )
    return locked


@dataclass(frozen=True)
class ActingScope:
    """What a person may do for a company right now. Truthy when allowed."""

    allowed: bool
    as_legal_representative: bool = False
    all_items: bool = False
    standard_item_ids: frozenset[int] = field(default_factory=frozenset)
    mandate_ids: tuple[int, ...] = ()
    ends_at: dt.datetime | None = None  # the latest end among the mandates used

    def __bool__(self) -> bool:
        return self.allowed

    def covers(self, standard_item_id: int) -> bool:
        return self.as_legal_representative or self.all_items or standard_item_id in self.standard_item_ids


NOT_ALLOWED = ActingScope(False)


def _standard_item_id(item) -> int | None:
    if item is None:
        return None
    if isinstance(item, int):
        return item
    # A ServiceItem (an implementation) counts as its standard item: mandates name standard items.
    return getattr(item, "standard_id", None) or item.pk


def active_mandates_q(now: dt.datetime) -> Q:
    return Q(revoked_at__isnull=True, starts_at__lte=now, ends_at__gt=now)


def acting_scope(
    person: Person | None, company: Company, standard_item=None, *, now: dt.datetime | None = None
) -> ActingScope:
    """May ``person`` act for ``company`` now (for ``standard_item``, a StandardItem, a ServiceItem
    or a standard item id, when given)? The legal representative always may; an agent through a
    mandate that has started, has not ended and is not revoked, whose scope covers the item."""
    if person is None or company is None:
        return NOT_ALLOWED
    if is_legal_representative(person, company):
        return ActingScope(True, as_legal_representative=True, all_items=True)
    now = now or timezone.now()
    mandates = list(
        Mandate.objects.filter(active_mandates_q(now), company=company, agent=person).prefetch_related(
            "standard_items"
        )
    )
    if not mandates:
        return NOT_ALLOWED
    all_items = any(m.all_items for m in mandates)
    item_ids = frozenset(i.pk for m in mandates if not m.all_items for i in m.standard_items.all())
    scope = ActingScope(
        True,
        all_items=all_items,
        standard_item_ids=item_ids,
        mandate_ids=tuple(m.pk for m in mandates),
        ends_at=max(m.ends_at for m in mandates),
    )
    wanted = _standard_item_id(standard_item)
    if wanted is not None and not scope.covers(wanted):
        return NOT_ALLOWED
    return scope


# --- key rotation -------------------------------------------------------------------------------


@dataclass
class RotationReport:
    rotated: dict[str, int] = field(default_factory=dict)
    current: dict[str, int] = field(default_factory=dict)
    key_id: str = ""


def _rotate(value: str, context: str, kid: str) -> str:
    if not value or key_id_of(value) == kid:
        return value
    return encrypt(decrypt(value, context=context), context=context)


def rotate_data_keys(*, batch_size: int = 500) -> RotationReport:
    """Re-encrypt every ciphertext not under the current key (the first of YIWANG_DATA_KEYS).

    Rows are rewritten in batches, each in its own transaction, so a long rotation can be
    interrupted and run again: it picks up where it stopped. Old keys can be removed from
    YIWANG_DATA_KEYS once a run reports nothing left to rotate.
    """
    kid = current_key_id()
    report = RotationReport(key_id=kid)
    prefix = f"{kid}:"

    stale_people = Person.objects.exclude(
        Q(key_id=kid)
        & Q(id_number_cipher__startswith=prefix)
        & (Q(phone_cipher="") | Q(phone_cipher__startswith=prefix))
    ).order_by("pk")
    report.current["person"] = Person.objects.count() - stale_people.count()
    report.rotated["person"] = 0
    last = 0
    while batch := list(stale_people.filter(pk__gt=last)[:batch_size]):
        with transaction.atomic():
            for p in batch:
                p.id_number_cipher = _rotate(p.id_number_cipher, ID_NUMBER_CONTEXT, kid)
                p.phone_cipher = _rotate(p.phone_cipher, PHONE_CONTEXT, kid)
                p.key_id = kid
            Person.objects.bulk_update(batch, ["id_number_cipher", "phone_cipher", "key_id"])
        report.rotated["person"] += len(batch)
        last = batch[-1].pk

    stale_totp = TotpDevice.objects.exclude(Q(key_id=kid) & Q(secret_cipher__startswith=prefix)).order_by(
        "pk"
    )
    report.current["totp"] = TotpDevice.objects.count() - stale_totp.count()
    report.rotated["totp"] = 0
    last = 0
    while batch_t := list(stale_totp.filter(pk__gt=last)[:batch_size]):
        with transaction.atomic():
            for d in batch_t:
                d.secret_cipher = _rotate(d.secret_cipher, TOTP_CONTEXT, kid)
                d.key_id = kid
            TotpDevice.objects.bulk_update(batch_t, ["secret_cipher", "key_id"])
        report.rotated["totp"] += len(batch_t)
        last = batch_t[-1].pk

    # Other apps' ciphertexts (cases, exchange...): each AppConfig that has
    # ``rotate_data_keys(kid, batch_size) -> {kind: (rotated, already current)}``.
    from django.apps import apps as django_apps

    for config in django_apps.get_app_configs():
        rotate = getattr(config, "rotate_data_keys", None)
        if callable(rotate):
            for kind, (n, current) in rotate(kid, batch_size).items():
                if n or current:
                    report.rotated[kind], report.current[kind] = n, current

    audit.record(
        "identity.keys.rotate",
        object_type="core.crypto",
        object_id=kid,
        summary=f"rotated to {kid}: " + ", ".join(f"{k} {v}" for k, v in report.rotated.items()),
        detail={"key_id": kid, "rotated": report.rotated, "current": report.current},
    )
    return report
