"""Personal data inside application forms (个人信息): which fields hold it, sealing and opening.

A form field holds personal data when its schema says so (``"x-personal": "id_number" | "phone" |
"address" | "name" | "other"``; ``false`` says it does not) or, unmarked, when its name is one
the platform knows (``id_number``, ``phone``, ``applicant_name``, ``address``...; the default
form's fields among them). ``Application.data`` keeps only the *masked* value of such a field;
the values themselves are one AES-GCM ciphertext in ``Application.personal_cipher`` (context
``cases.application_data``, the key id in front, so ``yiwang rotate-data-keys`` re-encrypts it).

Every reader and writer goes through this pair:

- ``seal_data(application, data)`` — the writer: masked values into ``data``, real ones into the
  cipher. A masked value posted back (a page that showed the mask, ``{**app.data, ...}``)
  means "unchanged" and keeps the sealed value.
- ``open_data(application, reader=...)`` — the reader that needs real values: the applicant, the
  clerk who entered it at the counter, staff who may see the case (``can_view_case``), or
  ``SYSTEM`` (validation at submission and correction). Anyone else gets ``NotPermitted``.
- ``shown_data(application, reader=...)`` — what a page that only shows the values gives
  ``reader``: the applicant (the owner) their own values in full, everyone else the masks.

Lists, logs, audit details and API answers read ``application.data`` as it is: masked.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from yiwang.core.crypto import decrypt, encrypt, key_id_of, mask_id_number, mask_phone
from yiwang.core.errors import NotPermitted

DATA_CONTEXT = "cases.application_data"
KINDS = ("id_number", "phone", "address", "name", "other")
KIND_LABELS = {
    "id_number": "证件号码",
    "phone": "电话号码",
    "address": "地址",
    "name": "自然人姓名",
    "other": "其他个人信息",
}
# Field names that are personal data unless the schema says ``"x-personal": false``.
KNOWN_FIELDS = {
    "applicant_name": "name",
    "contact_name": "name",
    "legal_representative": "name",
    "id_number": "id_number",
    "id_no": "id_number",
    "id_card": "id_number",
    "phone": "phone",
    "mobile": "phone",
    "contact_phone": "phone",
    "telephone": "phone",
    "address": "address",
    "home_address": "address",
    "contact_address": "address",
    "bank_account": "other",
    "email": "other",
}
# ``format`` values that mark a field personal (JSON Schema's "email"; our own names).
KNOWN_FORMATS = {"email": "other", "x-id-number": "id_number", "x-phone": "phone"}


class _System:
    """The platform itself reading values to validate them (never shown to anyone)."""

    def __repr__(self) -> str:
        return "SYSTEM"


SYSTEM = _System()


def personal_fields(schema: dict | None) -> dict[str, str]:
    """{field: kind} of the fields of ``schema`` that hold personal data."""
    out: dict[str, str] = {}
    for key, spec in ((schema or {}).get("properties") or {}).items():
        if not isinstance(spec, dict):
            continue
        mark = spec.get("x-personal")
        if mark is False:
            continue
        if isinstance(mark, str) and mark in KINDS:
            out[key] = mark
        elif mark is True:
            out[key] = "other"
        elif spec.get("format") in KNOWN_FORMATS:
            out[key] = KNOWN_FORMATS[spec["format"]]
        elif key in KNOWN_FIELDS:
            out[key] = KNOWN_FIELDS[key]
    return out


def mask(kind: str, value: Any) -> str:
    """What pages, lists, logs and the API show instead of the value."""
    v = "" if value is None else str(value).strip()
    if not v:
        return ""
    if kind == "id_number":
        return mask_id_number(v)
    if kind == "phone":
        return mask_phone(v)
    if kind == "name":
        return v[0] + "*" * max(len(v) - 1, 1)
    if kind == "address":
        # The district stays readable (where to send), the street and number do not.
        return v[: min(6, max(len(v) - 2, 1))] + "****"
    return "*" * max(len(v) - 4, 4) + v[-4:] if len(v) > 8 else "****"


# --- pure functions on values (also used by the migration) -------------------------------------


def seal_values(
    schema: dict | None, data: dict[str, Any], previous_cipher: str = ""
) -> tuple[dict[str, Any], str]:
    """(data with personal values masked, ciphertext of the personal values)."""
    fields = personal_fields(schema)
    previous = open_cipher(previous_cipher)
    public: dict[str, Any] = {}
    sealed: dict[str, Any] = {}
    for key, value in data.items():
        kind = fields.get(key)
        if kind is None or value in (None, ""):
            public[key] = value
            continue
        if key in previous and isinstance(value, str) and value == mask(kind, previous[key]):
            value = previous[key]  # the mask came back from a page: unchanged
        sealed[key] = value
        public[key] = mask(kind, value)
    cipher = encrypt(json.dumps(sealed, ensure_ascii=False), context=DATA_CONTEXT) if sealed else ""
    return public, cipher


def open_cipher(cipher: str) -> dict[str, Any]:
    if not cipher:
        return {}
    return json.loads(decrypt(cipher, context=DATA_CONTEXT))


def open_values(data: dict[str, Any], cipher: str) -> dict[str, Any]:
    out = dict(data)
    out.update(open_cipher(cipher))
    return out


def unsealed_keys(schema: dict | None, data: dict[str, Any], cipher: str) -> list[str]:
    """Personal fields whose real value still sits in ``data`` (rows written before sealing)."""
    sealed = open_cipher(cipher)
    return [
        k
        for k, kind in personal_fields(schema).items()
        if data.get(k) not in (None, "") and (k not in sealed or data[k] != mask(kind, sealed[k]))
    ]


# --- the pair every reader and writer uses -------------------------------------------------------


def seal_data(application, data: dict[str, Any]) -> None:
    """Set ``application.data`` (masked) and ``application.personal_cipher``; the caller saves
    both fields (``update_fields=["data", "personal_cipher", ...]``)."""
    application.data, application.personal_cipher = seal_values(
        application.form_schema, data, application.personal_cipher
    )


def may_open(application, reader) -> bool:
    if reader is SYSTEM:
        return True
    pk = getattr(reader, "pk", None)
    if pk is None or not getattr(reader, "is_authenticated", False):
        return False
    if application.applicant_id == pk or (
        application.channel == "counter" and application.entered_by_id == pk
    ):
        return True
    case = getattr(application, "case", None) if application.submitted_at else None
    if case is None:
        return False
    from .selectors import can_view_case

    return can_view_case(reader, case)


def open_data(application, *, reader) -> dict[str, Any]:
    """The form data with real personal values, for ``reader`` (see ``may_open``)."""
    if not may_open(application, reader):
        raise NotPermitted(_("您无权查看该申请中的个人信息。"))
    return open_values(application.data, application.personal_cipher)


def is_owner(application, reader) -> bool:
    """The reader is the person who applies (whoever they act for): their own data."""
    pk = getattr(reader, "pk", None)
    return pk is not None and getattr(reader, "is_authenticated", False) and application.applicant_id == pk


def shown_data(application, *, reader) -> dict[str, Any]:
    """The form data as a page shows it to ``reader``: in full to its owner (``is_owner``), who
    checks what they typed before submitting; masked to staff and anyone else, even where
    ``open_data`` would let them read it."""
    if is_owner(application, reader):
        return open_values(application.data, application.personal_cipher)
    return dict(application.data)


def shown_address(application, address: str, *, reader) -> str:
    """A delivery address as a page shows it: in full to the owner, masked to anyone else."""
    return address if is_owner(application, reader) else mask("address", address)


# --- key rotation --------------------------------------------------------------------------------


def rotate_column(queryset, fields: dict[str, str], kid: str, batch_size: int = 500) -> tuple[int, int]:
    """Re-encrypt ``fields`` ({column: context}) of every row not under key ``kid``, batch by
    batch (each its own transaction, so an interrupted run resumes). (rotated, already current)."""
    from django.db.models import Q

    prefix = f"{kid}:"
    current = Q()
    for column in fields:
        current &= Q(**{column: ""}) | Q(**{f"{column}__startswith": prefix})
    model = queryset.model
    stale = queryset.exclude(current).order_by("pk")
    already = queryset.count() - stale.count()
    rotated, last = 0, 0
    while batch := list(stale.filter(pk__gt=last)[:batch_size]):
        with transaction.atomic():
            for row in batch:
                for column, context in fields.items():
                    value = getattr(row, column)
                    if value and key_id_of(value) != kid:
                        setattr(row, column, encrypt(decrypt(value, context=context), context=context))
            model.objects.bulk_update(batch, list(fields))
        rotated += len(batch)
        last = batch[-1].pk
    return rotated, already


def rotate_data_keys(kid: str, batch_size: int = 500) -> dict[str, tuple[int, int]]:
    """The cases app's ciphertexts: form personal data, delivery addresses, outbox recipients."""
    from .models import Application, Delivery, OutboxMessage
    from .services import ADDRESS_CONTEXT, RECIPIENT_CONTEXT

    return {
        "cases.application": rotate_column(
            Application.objects.all(),
            {"personal_cipher": DATA_CONTEXT, "delivery_address_cipher": ADDRESS_CONTEXT},
            kid,
            batch_size,
        ),
        "cases.delivery": rotate_column(
            Delivery.objects.all(), {"address_cipher": ADDRESS_CONTEXT}, kid, batch_size
        ),
        "cases.outbox": rotate_column(
            OutboxMessage.objects.all(), {"recipient_cipher": RECIPIENT_CONTEXT}, kid, batch_size
        ),
    }


__all__: list[str] = [
    "SYSTEM",
    "personal_fields",
    "mask",
    "seal_data",
    "open_data",
    "is_owner",
    "shown_data",
    "shown_address",
    "rotate_data_keys",
]
