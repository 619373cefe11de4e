"""Answering department systems' requests through the exchange API (数据共享交换接口).

Contract of every call (single lookup, bulk lookup, change feed):

- The client's department must hold a live grant on the resource, for the purpose named, that
  covers **every** field asked (``grant_selectors.live_grant``: the only access check). Anything
  else is refused with a machine code and a message, and nothing is read or returned.
- Every call that reaches this module, answered, refused or failed, is one entry of the exchange
  log (``log.record``), written in the same transaction as the answer kept for replays
  (``ExchangeAnswer``, AES-GCM): both are there or neither.
- The same request id from the same client gets the first answer back, from the kept answer: no
  second read, no second entry. Kept answers expire after ``YIWANG_EXCHANGE_ANSWER_HOURS``
  (24); after that the id is still taken (409 ``request_id_reused``).
- A registry that raises or answers nothing is a 503 ``registry_unavailable``, logged as failed;
  the read runs under a savepoint so that a database error in it cannot spoil the log entry.
  A failed request id is spent too: the client retries with a new one.

Two concurrent calls with the same new request id may both read; the unique log constraint
lets only the first be logged, and the second answers with the first's kept answer.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.crypto import decrypt, encrypt

from . import catalogue_selectors, grant_selectors, log
from .models import DataResource, ExchangeAnswer, ExchangeClient, ExchangeOutcome, Grant

logger = logging.getLogger(__name__)

MAX_SUBJECTS = 1000
MAX_FEED_LIMIT = 5000
ANSWER_CONTEXT = "exchange.answer"

REFUSALS = (
    "no_grant",
    "expired",
    "revoked",
    "field_not_granted",
    "wrong_purpose",
    "unknown_resource",
    "too_many_subjects",
)


@dataclass(frozen=True)
class Call:
    """What every call names: who (the client and so its department), which request, which
    resource and fields, for what purpose and case."""

    client: ExchangeClient
    request_id: str
    resource_code: str
    fields: list[str]
    purpose: str
    case_number: str = ""

    @property
    def client_id(self) -> str:
        return str(self.client.application.client_id)


@dataclass
class Answer:
    status: int
    body: dict[str, Any]
    replayed: bool = False
    headers: dict[str, str] = field(default_factory=dict)


def refusal_message(code: str, **params: Any) -> str:
    messages = {
        "no_grant": _("本部门没有该资源的有效授权。"),
        "expired": _("本部门对该资源的授权已过期。"),
        "revoked": _("本部门对该资源的授权已被撤销。"),
        "field_not_granted": _("请求的字段超出授权范围：%(fields)s。"),
        "wrong_purpose": _("所述用途与授权用途不符。"),
        "unknown_resource": _("共享资源 %(resource)s 不存在、未发布或没有可查询的基础库。"),
        "too_many_subjects": _("一次最多查询 %(max)s 个对象，本次 %(n)s 个。"),
    }
    text = messages[code]
    return text % params if params else text


# --- the kept answers ----------------------------------------------------------------------------


def _serialise(body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The JSON kept and the body sent: one and the same, so a replay is byte for byte the first
    answer (dates and decimals become strings in both)."""
    text = json.dumps(body, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":"))
    return text, json.loads(text)


def replay(client: ExchangeClient, request_id: str) -> Answer | None:
    """The first answer to a request id this client already sent; None for a new one."""
    entry = log.logged(str(client.application.client_id), request_id)
    if entry is None:
        return None
    kept = ExchangeAnswer.objects.filter(entry=entry, expires_at__gt=timezone.now()).first()
    if kept is None:
        return Answer(
            409,
            {
                "code": "request_id_reused",
                "detail": _("请求编号 %(id)s 已经使用过，其应答已不再保留；请使用新的请求编号。")
                % {"id": request_id},
                "request_id": request_id,
            },
            replayed=True,
        )
    return Answer(kept.status, json.loads(decrypt(kept.body_cipher, context=ANSWER_CONTEXT)), replayed=True)


def purge_answers(now: dt.datetime | None = None) -> int:
    """Delete kept answers past their day (the sealer's job runs it)."""
    deleted, _count = ExchangeAnswer.objects.filter(expires_at__lte=now or timezone.now()).delete()
    return deleted


def _finish(
    call: Call,
    *,
    status: int,
    body: dict[str, Any],
    outcome: str,
    registry: str,
    subject_hashes: list[str],
    grant: Grant | None = None,
    reason: str = "",
    records: int = 0,
) -> Answer:
    """Log the call and keep its answer, in one transaction (the caller's, if any)."""
    text, sent = _serialise(body)
    with transaction.atomic():
        entry, created = log.record(
            request_id=call.request_id,
            client_id=call.client_id,
            consumer=call.client.department,
            registry=registry,
            outcome=outcome,
            subject_hashes=subject_hashes,
            fields=call.fields,
            resource_code=call.resource_code[:40],
            grant_id=grant.pk if grant else None,
            purpose=call.purpose,
            case_number=call.case_number,
            reason=reason,
            records=records,
        )
        if not created:
            # Another call with this request id was logged first: its answer is the answer.
            first = replay(call.client, call.request_id)
            assert first is not None
            return first
        hours = int(getattr(settings, "YIWANG_EXCHANGE_ANSWER_HOURS", 24))
        ExchangeAnswer.objects.create(
            entry=entry,
            status=status,
            body_cipher=encrypt(text, context=ANSWER_CONTEXT),
            expires_at=entry.at + dt.timedelta(hours=hours),
        )
    return Answer(status, sent)


def _refuse(call: Call, code: str, *, registry: str, subject_hashes: list[str], **params: Any) -> Answer:
    body = {"code": code, "detail": refusal_message(code, **params), "request_id": call.request_id}
    return _finish(
        call,
        status=403,
        body=body,
        outcome=ExchangeOutcome.REFUSED,
        registry=registry,
        subject_hashes=subject_hashes,
        reason=code,
    )


def _fail(call: Call, *, registry: str, subject_hashes: list[str], grant: Grant) -> Answer:
    body = {
        "code": "registry_unavailable",
        "detail": _("基础库暂时无法应答，未返回任何数据；请稍后使用新的请求编号重试。"),
        "request_id": call.request_id,
    }
    return _finish(
        call,
        status=503,
        body=body,
        outcome=ExchangeOutcome.FAILED,
        registry=registry,
        subject_hashes=subject_hashes,
        grant=grant,
        reason="registry_unavailable",
    )


# --- subjects ------------------------------------------------------------------------------------


def subject_hash(registry: str, subject: str) -> str:
    """The keyed hash the platform already uses for this kind of subject: the ID number's for
    people (``Person.id_number_hash``), the credit code's for companies (e-certificate holders)."""
    from yiwang.identity.registries import id_number_hash
    from yiwang.identity.validators import normalize_id_number

    from .services import company_hash

    text = (subject or "").strip().upper()
    if registry == "population":
        return id_number_hash(text)
    if registry in {"legal_entity", "credit"}:
        return company_hash(text)
    # Either (e-certificates): a plausible ID number is a person's, anything else a company's.
    return id_number_hash(text) if normalize_id_number(text) and text[:17].isdigit() else company_hash(text)


# --- the checks shared by the three calls ---------------------------------------------------------


def _registries():  # the base registries (exchange.registries), imported when first asked
    from . import registries

    return registries


def _resource(call: Call) -> DataResource | None:
    resource = catalogue_selectors.resource_by_code(call.resource_code)
    if resource is None or resource.registry not in _registries().REGISTRIES:
        return None
    return resource


def _check(
    call: Call, resource: DataResource | None, hashes: list[str]
) -> tuple[Grant | None, Answer | None]:
    if resource is None:
        return None, _refuse(
            call, "unknown_resource", registry="", subject_hashes=hashes, resource=call.resource_code
        )
    grant = grant_selectors.live_grant(call.client.department_id, resource, call.fields, call.purpose)
    if grant is not None:
        return grant, None
    code = grant_selectors.refusal_reason(call.client.department_id, resource, call.purpose)
    params: dict[str, Any] = {}
    if code == "field_not_granted":
        allowed = set(
            grant_selectors.granted_fields(call.client.department_id, resource, call.fields, call.purpose)
        )
        params["fields"] = "、".join(f for f in call.fields if f not in allowed)
    return None, _refuse(call, code, registry=resource.registry, subject_hashes=hashes, **params)


def _only(record: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    """The granted fields of a record and its metadata (``_version`` …), nothing else, even if
    a registry gave more."""
    return {k: v for k, v in record.items() if k in fields or k.startswith("_")}


# --- the calls ------------------------------------------------------------------------------------


def lookup(call: Call, subjects: list[str], *, bulk: bool = False) -> Answer:
    """A single (one subject) or bulk (up to ``MAX_SUBJECTS``) lookup of current records."""
    kept = replay(call.client, call.request_id)
    if kept is not None:
        return kept
    subjects = [(s or "").strip().upper() for s in subjects]
    resource = _resource(call)
    registry = resource.registry if resource else ""
    hashes = [subject_hash(registry, s) for s in subjects]
    if len(subjects) > MAX_SUBJECTS:
        return _refuse(
            call,
            "too_many_subjects",
            registry=registry,
            subject_hashes=hashes,
            max=MAX_SUBJECTS,
            n=len(subjects),
        )
    grant, refused = _check(call, resource, hashes)
    if refused is not None:
        return refused
    assert resource is not None and grant is not None
    with transaction.atomic():
        try:
            with transaction.atomic():
                found = _registries().lookup(resource.registry, subjects, list(call.fields))
            if not isinstance(found, dict):
                raise TypeError("the registry answered nothing")
        except Exception:
            logger.exception("registry %s failed on a lookup", resource.registry)
            return _fail(call, registry=resource.registry, subject_hashes=hashes, grant=grant)
        results = [
            {"subject": s, "records": [_only(r, call.fields) for r in found.get(s, [])]} for s in subjects
        ]
        records = sum(len(r["records"]) for r in results)
        body: dict[str, Any] = {
            "request_id": call.request_id,
            "resource": resource.code,
            "registry": resource.registry,
            "fields": list(call.fields),
        }
        if bulk:
            body |= {"found": sum(1 for r in results if r["records"]), "results": results}
        else:
            body |= {"subject": subjects[0], "records": results[0]["records"]}
        return _finish(
            call,
            status=200,
            body=body,
            outcome=ExchangeOutcome.ANSWERED,
            registry=resource.registry,
            subject_hashes=hashes,
            grant=grant,
            records=records,
        )


def feed(call: Call, *, since: int, limit: int) -> Answer:
    """One page of the change feed after cursor ``since``, for a department keeping a copy."""
    kept = replay(call.client, call.request_id)
    if kept is not None:
        return kept
    resource = _resource(call)
    grant, refused = _check(call, resource, [])
    if refused is not None:
        return refused
    assert resource is not None and grant is not None
    limit = max(1, min(limit, MAX_FEED_LIMIT))
    with transaction.atomic():
        try:
            with transaction.atomic():
                rows, next_cursor = _registries().changes(resource.registry, since, limit, list(call.fields))
        except Exception:
            logger.exception("registry %s failed on its change feed", resource.registry)
            return _fail(call, registry=resource.registry, subject_hashes=[], grant=grant)
        changes = [_only(r, call.fields) for r in rows]
        body = {
            "request_id": call.request_id,
            "resource": resource.code,
            "registry": resource.registry,
            "fields": list(call.fields),
            "since": since,
            "next_cursor": next_cursor,
            "has_more": len(rows) >= limit,
            "changes": changes,
        }
        return _finish(
            call,
            status=200,
            body=body,
            outcome=ExchangeOutcome.ANSWERED,
            registry=resource.registry,
            subject_hashes=[str(r.get("_subject_hash", "")) for r in rows],
            grant=grant,
            records=len(rows),
        )
