"""Writes about accounts: registering people and companies (with real-name verification against
the base registries), mandates (granting, revoking, and the check who may act for a company),
assurance levels, and re-encrypting personal data under a new key.

Every function checks its own permissions and raises ``DomainError`` / ``ValidationFailed`` /
``NotPermitted`` (with the field at fault) before writing anything; each user action is one
transaction, audited with masked values only.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
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
from yiwang.core.security import hit, parse_rate

from .models import AssuranceLevel, ChallengePurpose, Company, Mandate, Person, PhoneChallenge, TotpDevice
from .registries import (
    CompanyOutcome,
    PersonOutcome,
    id_number_hash,
    legal_entity_registry,
    phone_hash,
    population_registry,
)
from .selectors import mandates_in_force_q
from .sms import SmsGateway, sms_gateway
from .validators import IdNumber, validate_credit_code, validate_id_number, validate_mobile_phone

if TYPE_CHECKING:
    from yiwang.catalog.models import ServiceItem, StandardItem

log = logging.getLogger("yiwang.identity.sms")

ID_NUMBER_CONTEXT = "person.id_number"  # AES-GCM associated data: a ciphertext stays in its column
PHONE_CONTEXT = "person.phone"
TOTP_CONTEXT = "totp"  # identity.mfa.CONTEXT
MAX_MANDATE_DAYS = 3 * 365 + 1  # three years, leap day included
MAX_NAME_LENGTH = 64


def id_number_of(person: Person) -> str:
    """The plain ID number, for a registry check or an authorised export; never for display."""
    return decrypt(person.id_number_cipher, context=ID_NUMBER_CONTEXT)


def _errors_of(field_name: str, exc: ValidationError) -> list[FieldError]:
    return [FieldError(field_name, str(m), getattr(exc, "code", None) or "invalid") for m in exc.messages]


def _clean_name(name: str) -> str:
    return "".join((name or "").split())


# --- people -------------------------------------------------------------------------------------


def _check_registration(
    username: str, password: str, name: str, id_number: str, phone: str
) -> tuple[list[FieldError], IdNumber | None, str]:
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


# --- registration with a one-time code --------------------------------------------------------

CODE_PURPOSE = "phone_code"  # blind_index purpose of one-time codes
PAYLOAD_CONTEXT = "challenge.payload"


def birth_date_of(person: Person) -> dt.date:
    """The exact birth date, from the decrypted ID number (no clear column holds it)."""
    return validate_id_number(id_number_of(person)).birth_date


def region_code_of(person: Person) -> str:
    """The county code of the ID number (where the card was first issued), decrypted."""
    return id_number_of(person)[:6]


def _code_hash(token: str, code: str) -> str:
    # Bound to the challenge's token: a code hash copied to another challenge does not match.
    return blind_index(f"{token}:{code.strip()}", purpose=CODE_PURPOSE)


def _rate(name: str) -> tuple[int, int] | None:
    rate = str(getattr(settings, name, "") or "")
    if rate.strip().lower() in {"", "0", "off"}:
        return None
    return parse_rate(rate)


def _check_rate(bucket: str, setting: str) -> None:
    rate = _rate(setting)
    if rate is None:
        return
    if wait := hit(bucket, *rate):
        minutes = max(1, (wait + 59) // 60)
        raise DomainError(
            _("操作过于频繁，请 %(n)s 分钟后再试。") % {"n": minutes}, field="", code="rate_limited"
        )


def _send(gateway: SmsGateway, phone: str, text: str) -> None:
    # A provider failure must not change the answer (it would tell which branch ran): logged.
    try:
        gateway.send(phone, text)
    except Exception:
        log.exception("SMS not sent")


def _new_challenge(
    purpose: str, *, with_code: bool, person: Person | None = None, payload: dict[str, Any] | None = None
) -> tuple[PhoneChallenge, str]:
    """(challenge row, text of the SMS to send or ""): a code is made only ``with_code``.

    The caller sends the text after its transaction (a challenge without its code would be
    useless; a code for a challenge rolled back is harmless)."""
    now = timezone.now()
    # Challenges are useless once expired; a day's margin keeps them for the operators' questions.
    PhoneChallenge.objects.filter(expires_at__lt=now - dt.timedelta(days=1)).delete()
    token = secrets.token_urlsafe(32)
    code = f"{secrets.randbelow(10**6):06d}"
    challenge = PhoneChallenge.objects.create(
        token=token,
        purpose=purpose,
        person=person,
        code_hash=_code_hash(token, code) if with_code else "",
        payload_cipher=encrypt(json.dumps(payload), context=PAYLOAD_CONTEXT) if payload else "",
        expires_at=now + dt.timedelta(seconds=settings.YIWANG_PHONE_CODE_SECONDS),
    )
    if not with_code:
        return challenge, ""
    minutes = max(1, settings.YIWANG_PHONE_CODE_SECONDS // 60)
    text = _(
        "【一网】您的验证码为 %(code)s，%(n)s 分钟内有效。工作人员不会向您索要验证码，请勿告诉他人。"
    ) % {
        "code": code,
        "n": minutes,
    }
    return challenge, text


def start_registration(
    *,
    username: str,
    password: str,
    name: str,
    id_number: str,
    phone: str,
    client_address: str = "",
    gateway: SmsGateway | None = None,
) -> str:
    """First step of registering a person: check the fields, then answer the same way
    whatever the registry and the accounts hold, and return a challenge token.

    Only when the name, ID number and phone all match the population registry (the phone is
    the person's real-name phone) and the ID number has no account is a code sent to that
    phone. An ID number that has an account gets a notice on the account's phone instead, and
    any other case sends nothing. Sends are limited per ID number (keyed hash) and per client
    address, counted before anything is looked up, so the limit tells nothing either.
    Field errors (format, username taken, password) are the only other answer.
    """
    username = (username or "").strip()
    name = _clean_name(name)
    errors, info, clean_phone = _check_registration(username, password, name, id_number, phone)
    if errors:
        raise ValidationFailed(errors)
    assert info is not None
    id_hash = id_number_hash(info.value)
    _check_rate(f"register:id:{id_hash}", "YIWANG_RATE_REGISTER_ID")
    if client_address:
        _check_rate(f"register:address:{client_address}", "YIWANG_RATE_REGISTER_ADDRESS")
    gateway = gateway or sms_gateway()
    masked = mask_id_number(info.value)
    send_to, text = "", ""
    with transaction.atomic():
        existing = Person.objects.filter(id_number_hash=id_hash).first()
        live = False
        if existing is not None:
            outcome = "has_account"
            if existing.phone_cipher:
                send_to = decrypt(existing.phone_cipher, context=PHONE_CONTEXT)
                text = _(
                    "【一网】有人正在用您的身份证号注册一网账号。您已有账号，可在登录页找回用户名或密码；"
                    "如非本人操作，请忽略本短信。"
                )
        else:
            check = population_registry().verify_person(name, info.value, clean_phone)
            live = bool(check.ok and check.phone_match)
            outcome = "match" if live else str(check.outcome) if not check.ok else "phone_mismatch"
        payload = {
            "username": username,
            "password": make_password(password),
            "name": name,
            "id_number": info.value,
            "phone": clean_phone,
        }
        challenge, code_text = _new_challenge(ChallengePurpose.REGISTER, with_code=live, payload=payload)
        if live:
            send_to, text = clean_phone, code_text
        audit.record(
            "identity.person.register_start",
            object_type="identity.person",
            summary=f"{masked} {outcome}",
            detail={"id_number": masked, "phone": mask_phone(clean_phone), "outcome": outcome},
        )
    if send_to:
        _send(gateway, send_to, text)
    return challenge.token


def _claim_challenge(token: str, code: str, purpose: str, person: Person | None = None) -> PhoneChallenge:
    """Count one attempt and return the live challenge if ``code`` is right, else raise.

    Wrong, expired, used-up and never-sent challenges all refuse with a message next to the
    code field; the attempt is counted in its own transaction so a refusal cannot roll it back.
    """
    code = "".join((code or "").split())
    if not code:
        raise ValidationFailed([FieldError("code", _("请填写短信验证码"), "required")])
    with transaction.atomic():
        challenge = (
            PhoneChallenge.objects.select_for_update().filter(token=token or "", purpose=purpose).first()
        )
        if challenge is None or (person is not None and challenge.person_id != person.pk):
            raise DomainError(_("验证码已失效，请重新获取。"), field="code", code="no_challenge")
        if challenge.used_at is not None or challenge.expires_at <= timezone.now():
            raise DomainError(_("验证码已过期，请重新获取。"), field="code", code="expired")
        if challenge.attempts >= settings.YIWANG_PHONE_CODE_ATTEMPTS:
            raise DomainError(_("验证码错误次数过多，请重新获取。"), field="code", code="too_many_attempts")
        challenge.attempts += 1
        challenge.save(update_fields=["attempts"])
    right = bool(challenge.code_hash) and hmac.compare_digest(challenge.code_hash, _code_hash(token, code))
    if not right:
        raise DomainError(_("验证码错误，请核对短信后重新填写。"), field="code", code="wrong_code")
    return challenge


def complete_registration(*, token: str, code: str) -> Person:
    """Second step: the code sent to the registered phone. Creates the login and the person,
    real-name verified with the phone proven (assurance level 2), in one transaction."""
    challenge = _claim_challenge(token, code, ChallengePurpose.REGISTER)
    data = json.loads(decrypt(challenge.payload_cipher, context=PAYLOAD_CONTEXT))
    now = timezone.now()
    masked = mask_id_number(data["id_number"])
    User = get_user_model()
    try:
        with transaction.atomic():
            used = PhoneChallenge.objects.filter(pk=challenge.pk, used_at__isnull=True).update(
                used_at=now, payload_cipher=""
            )
            if not used:
                raise DomainError(_("验证码已过期，请重新获取。"), field="code", code="expired")
            if User._default_manager.filter(username__iexact=data["username"]).exists():
                raise DomainError(
                    _("该用户名刚刚已被使用，请重新注册并换一个用户名。"), field="code", code="username_taken"
                )
            user = User(username=data["username"], last_name=data["name"], password=data["password"])
            user.save()
            person = Person.objects.create(
                user=user,
                name=data["name"],
                id_number_cipher=encrypt(data["id_number"], context=ID_NUMBER_CONTEXT),
                id_number_hash=id_number_hash(data["id_number"]),
                id_number_masked=masked,
                phone_cipher=encrypt(data["phone"], context=PHONE_CONTEXT),
                phone_hash=phone_hash(data["phone"]),
                phone_masked=mask_phone(data["phone"]),
                phone_verified_at=now,
                assurance_level=AssuranceLevel.VERIFIED,
                verified_at=now,
                key_id=current_key_id(),
            )
            audit.record(
                "identity.person.register",
                person,
                summary=f"{data['name']} {masked}",
                detail={
                    "id_number": masked,
                    "phone": person.phone_masked,
                    "assurance_level": int(AssuranceLevel.VERIFIED),
                    "phone_verified": True,
                },
            )
    except IntegrityError:
        # Two registrations of the same ID number raced: the unique constraint decided.
        raise DomainError(
            _("该用户名或身份证号刚刚已被注册，请勿重复提交。"), field="code", code="duplicate"
        ) from None
    return person


def start_phone_verification(
    person: Person, *, client_address: str = "", gateway: SmsGateway | None = None
) -> str:
    """Send a code to the account's phone so its owner can prove it (an account created
    before phones were verified, or after a re-check). The registry must hold the account's
    phone as the person's real-name phone; otherwise ``DomainError`` (the owner may know)."""
    if not person.phone_cipher:
        raise DomainError(_("账号中没有手机号，请到政务服务大厅办理。"), field="", code="no_phone")
    _check_rate(f"register:id:{person.id_number_hash}", "YIWANG_RATE_REGISTER_ID")
    if client_address:
        _check_rate(f"register:address:{client_address}", "YIWANG_RATE_REGISTER_ADDRESS")
    phone = decrypt(person.phone_cipher, context=PHONE_CONTEXT)
    check = population_registry().verify_person(person.name, id_number_of(person), phone)
    if not (check.ok and check.phone_match):
        audit.record(
            "identity.person.phone_check_failed",
            person,
            summary=f"{person.id_number_masked} {check.outcome} phone_match={check.phone_match}",
            detail={"outcome": str(check.outcome), "phone_match": check.phone_match},
        )
        raise DomainError(
            _("账号中的手机号不是登记在您名下的手机号，请到政务服务大厅办理。"),
            field="",
            code="phone_mismatch",
        )
    challenge, text = _new_challenge(ChallengePurpose.PHONE, with_code=True, person=person)
    _send(gateway or sms_gateway(), phone, text)
    return challenge.token


def confirm_phone(person: Person, *, token: str, code: str) -> Person:
    """The code sent by ``start_phone_verification``: sets ``phone_verified_at`` and the level."""
    challenge = _claim_challenge(token, code, ChallengePurpose.PHONE, person=person)
    now = timezone.now()
    with transaction.atomic():
        PhoneChallenge.objects.filter(pk=challenge.pk).update(used_at=now)
        Person.objects.filter(pk=person.pk).update(phone_verified_at=now)
        person.phone_verified_at = now
        audit.record(
            "identity.person.phone_verified",
            person,
            summary=f"{person.id_number_masked} {person.phone_masked}",
            detail={"phone": person.phone_masked},
        )
        refresh_assurance(person)
    return person


def refresh_assurance(person: Person) -> int:
    """Recompute the account's assurance level: 3 when real-name verified and a confirmed TOTP
    device exists, 2 when verified, else 1. Called after verification and by identity.mfa.

    Verified means both: the registry matched name and ID number (``verified_at``) and the
    person proved control of the registered phone with a one-time code (``phone_verified_at``).
    """
    verified = person.verified_at is not None and person.phone_verified_at is not None
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


def _standard_item_id(item: StandardItem | ServiceItem | int | None) -> int | None:
    if item is None:
        return None
    if isinstance(item, int):
        return item
    # A ServiceItem (an implementation) counts as its standard item: mandates name standard items.
    return getattr(item, "standard_id", None) or item.pk


def acting_scope(
    person: Person | None,
    company: Company,
    standard_item: StandardItem | ServiceItem | int | None = None,
    *,
    now: dt.datetime | None = None,
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
        Mandate.objects.filter(mandates_in_force_q(now), company=company, agent=person).prefetch_related(
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


def choose_acting_as(user: Any, company_id: int | None) -> Company | None:
    """The signed-in account acts from now on for the company ``company_id`` (None: as
    themself): the session keeps the answer (``identity.acting``). The right is checked here
    against the database (``acting_scope``, any item), whatever a cached menu showed; refused
    with ``NotPermitted`` and nothing recorded when the person may not act for it now."""
    user_id = getattr(user, "pk", None)
    person = Person.objects.filter(user_id=user_id).first() if user_id is not None else None
    if person is None:
        # An account with no person (staff, a registration not finished) acts for nobody.
        raise NotPermitted(_("您不能代表该单位办事，身份未切换。"), code="not_acting")
    company = None
    if company_id is not None:
        company = Company.objects.filter(pk=company_id).first()
        if company is None or not acting_scope(person, company):
            raise NotPermitted(_("您不能代表该单位办事，身份未切换。"), code="not_acting")
    audit.record(
        "identity.acting_as",
        company if company is not None else person,
        summary=company.credit_code if company is not None else _("个人"),
        detail={"company": company.credit_code if company is not None else None},
    )
    return company


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
