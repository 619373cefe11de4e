"""Append to and verify the audit log. Call ``record`` inside the transaction of the action it
records, so an action and its audit entry are committed together or not at all. ID and phone
numbers in an entry's text are masked (``core.crypto.mask_text``) before it is hashed."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models.signals import post_save, pre_save
from django.utils import timezone

from .context import current_actor
from .crypto import mask_data, mask_text
from .models import AuditChainHead, AuditEntry

GENESIS = "0" * 64


def _digest(prev_hash: str, fields: dict[str, Any]) -> str:
    payload = json.dumps(
        fields, sort_keys=True, ensure_ascii=False, cls=DjangoJSONEncoder, separators=(",", ":")
    )
    return hashlib.sha256((prev_hash + payload).encode()).hexdigest()


def _hashed_fields(e: AuditEntry) -> dict[str, Any]:
    return {
        "seq": e.seq,
        "at": e.at.isoformat(),
        "actor_id": e.actor_id,
        "actor_label": e.actor_label,
        "channel": e.channel,
        "ip": e.ip,
        "action": e.action,
        "object_type": e.object_type,
        "object_id": e.object_id,
        "summary": e.summary,
        "detail": e.detail,
    }


def record(
    action: str,
    obj: Any = None,
    *,
    summary: str = "",
    detail: dict[str, Any] | None = None,
    object_type: str = "",
    object_id: str = "",
) -> AuditEntry:
    """Append one entry. ``obj`` may be a model instance (its label and pk are used)."""
    actor = current_actor()
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    # Round-trip the detail through JSON now so the hash covers exactly what the database stores,
    # and mask ID and phone numbers (typed login names, free text) before it is hashed: the
    # chain must never hold personal data in clear.
    clean_detail = mask_data(json.loads(json.dumps(detail or {}, cls=DjangoJSONEncoder, ensure_ascii=False)))
    entry = AuditEntry(
        at=timezone.now(),
        actor_id=actor.user_id,
        actor_label=mask_text(actor.label)[:150],
        channel=actor.channel,
        ip=actor.ip,
        action=action,
        object_type=object_type,
        object_id=mask_text(object_id)[:64],
        summary=mask_text(summary)[:500],
        detail=clean_detail,
    )
    pending = getattr(connection, "_yiwang_audit_batch", None)
    if pending is not None and connection.in_atomic_block:
        pending.append(entry)  # appended with the rest of the batch when it ends (``batched``)
        return entry
    _append([entry])
    return entry


def _payload_around_seq(e: AuditEntry) -> tuple[str, str]:
    """The hashed JSON of ``e`` (``_digest``'s payload) split where the value of ``seq`` goes:
    the keys are sorted, so it is ``{<keys before seq>,"seq":N,<keys after>}``."""
    fields = _hashed_fields(e)
    fields.pop("seq")

    def inner(keys: list[str]) -> str:
        return json.dumps(
            {k: fields[k] for k in keys},
            sort_keys=True,
            ensure_ascii=False,
            cls=DjangoJSONEncoder,
            separators=(",", ":"),
        )[1:-1]

    before = inner([k for k in fields if k < "seq"])
    after = inner([k for k in fields if k > "seq"])
    return "{" + (before + "," if before else "") + '"seq":', ("," + after if after else "") + "}"


@contextmanager
def batched() -> Iterator[None]:
    """The entries recorded inside (by the action and by whatever it sets off: an approval's
    e-certificate, a bundle's branches) are appended together when the block ends without an
    error, in the order they were recorded: on PostgreSQL one statement, and the chain head
    locked for that statement to the commit only. Use it inside the action's transaction; an
    error in the block drops them with the transaction. Elsewhere, and when nested, each entry
    is appended as it is recorded."""
    if not _in_one_statement() or getattr(connection, "_yiwang_audit_batch", None) is not None:
        yield
        return
    pending: list[AuditEntry] = []
    waiting: list[tuple[AuditEntry, Callable[[AuditEntry], None]]] = []
    # The batch and its waiting callbacks belong to the connection (one per thread).
    setattr(connection, "_yiwang_audit_batch", pending)  # noqa: B010
    setattr(connection, "_yiwang_audit_waiting", waiting)  # noqa: B010
    try:
        yield
    finally:
        setattr(connection, "_yiwang_audit_batch", None)  # noqa: B010
        setattr(connection, "_yiwang_audit_waiting", None)  # noqa: B010
    if pending:
        _append(pending)
    for entry, callback in waiting:
        callback(entry)


def when_appended(entry: AuditEntry, callback: Callable[[AuditEntry], None]) -> None:
    """Run ``callback(entry)`` once ``entry`` has its place in the chain (``seq``): at once, or,
    for an entry waiting in a ``batched`` block, right after the block appends it, in the same
    transaction (a row that points at the entry is written with it or not at all)."""
    waiting = getattr(connection, "_yiwang_audit_waiting", None)
    if entry.seq is None and waiting is not None:
        waiting.append((entry, callback))
    else:
        callback(entry)


def _in_one_statement() -> bool:
    """Whether entries are appended by ``_append_pg``: on PostgreSQL, unless a receiver listens
    to ``AuditEntry``'s save signals (the statement does not send them)."""
    return connection.vendor == "postgresql" and not _has_save_signals()


def _has_save_signals() -> bool:
    return pre_save.has_listeners(AuditEntry) or post_save.has_listeners(AuditEntry)


def _append(entries: list[AuditEntry]) -> None:
    """Append ``entries`` in order. No savepoint: they are part of the caller's action and fail
    with it. The head row stays locked until the caller commits, so callers record last."""
    with transaction.atomic(savepoint=False):
        if not (_in_one_statement() and _append_pg(entries)):  # no head row yet: the first ever
            _append_orm(entries)


def _append_orm(entries: list[AuditEntry]) -> None:
    """The portable append: lock the head, chain and hash each entry in Python, save it and
    move the head. The head row stays locked to the caller's commit."""
    with transaction.atomic(savepoint=False):
        head = AuditChainHead.objects.select_for_update().filter(id=1).first()
        if head is None:
            AuditChainHead.objects.get_or_create(id=1)  # first entry ever
            head = AuditChainHead.objects.select_for_update().get(id=1)
        seq, prev = head.seq, head.hash
        for entry in entries:
            seq += 1
            entry.seq, entry.prev_hash = seq, prev
            entry.hash = prev = _digest(prev, _hashed_fields(entry))
            entry.save(force_insert=True)
        AuditChainHead.objects.filter(id=1).update(seq=seq, hash=prev)


# The columns ``_append_pg`` writes besides seq, prev_hash and hash: every concrete field of
# ``AuditEntry`` but the id (tests/core/test_audit.py fails when a field is added or renamed).
_PG_COLUMNS = (
    "at",
    "actor_id",
    "actor_label",
    "channel",
    "ip",
    "action",
    "object_type",
    "object_id",
    "summary",
    "detail",
)


def _append_pg(entries: list[AuditEntry]) -> bool:
    """``_append_orm`` as one hand-written PostgreSQL statement: lock the head, hash each entry
    in the database (the same SHA-256 of the previous hash and the same JSON as ``_digest``:
    only the sequence numbers are not known before the head is locked), insert them and move
    the head. It is kept because a step appends its entries inside its own transaction with the
    head locked: one round trip instead of three, and no ORM query to compile
    (``bench/audit_append.py``). It relies on Django storing a ``JSONField`` as the JSON text
    of its value and on the fields' ``db_type``; tests/core/test_audit.py runs both appends
    against each other on PostgreSQL. It sends no save signals, so it refuses to run where
    ``AuditEntry`` has receivers for them. False when there is no head row yet."""
    if _has_save_signals():
        raise RuntimeError("AuditEntry has save signal receivers: append with _append_orm")
    entry_table = connection.ops.quote_name(AuditEntry._meta.db_table)
    head_table = connection.ops.quote_name(AuditChainHead._meta.db_table)
    links = [f"h AS (SELECT seq AS seq, hash AS hash FROM {head_table} WHERE id = 1 FOR UPDATE)"]
    rows: list[str] = []
    params: list[Any] = []
    values: list[Any] = []
    # Typed placeholders: the rows of a VALUES list take their types from their values, and an
    # untyped NULL (no actor, no IP) would be text.
    typed = ", ".join(
        f"CAST(%s AS {AuditEntry._meta.get_field(name).db_type(connection)})" for name in _PG_COLUMNS
    )
    prev = "h"
    for n, entry in enumerate(entries, start=1):
        detail = json.dumps(entry.detail, cls=DjangoJSONEncoder, ensure_ascii=False)
        entry.seq = 0  # a placeholder for the split; the real one comes from the head
        before, after = _payload_around_seq(entry)
        # Entry n is chained to entry n-1 (or the head): seq + 1, and the hash over its hash.
        links.append(
            f"n{n} AS (SELECT seq + 1 AS seq, hash AS prev, encode(sha256(convert_to("
            f"hash || %s || (seq + 1)::text || %s, 'UTF8')), 'hex') AS hash FROM {prev})"
        )
        params += [before, after]
        rows.append(f"((SELECT seq FROM n{n}), {typed}, (SELECT prev FROM n{n}), (SELECT hash FROM n{n}))")
        values += [detail if name == "detail" else getattr(entry, name) for name in _PG_COLUMNS]
        prev = f"n{n}"
    sql = (
        f"WITH {', '.join(links)}, "
        f"e AS (INSERT INTO {entry_table} (seq, {', '.join(_PG_COLUMNS)}, prev_hash, hash) "
        f"SELECT * FROM (VALUES {', '.join(rows)}) AS v WHERE EXISTS (SELECT 1 FROM h) "
        "RETURNING id, seq, prev_hash, hash), "
        f"u AS (UPDATE {head_table} SET seq = {prev}.seq, hash = {prev}.hash FROM {prev} "
        f"WHERE {head_table}.id = 1) "
        "SELECT id, seq, prev_hash, hash FROM e ORDER BY seq"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *values])
        returned = cursor.fetchall()
    if not returned:
        for entry in entries:
            entry.seq = None
        return False
    for entry, (pk, seq, prev_hash, hash_) in zip(entries, returned, strict=True):
        entry.pk, entry.seq, entry.prev_hash, entry.hash = pk, seq, prev_hash, hash_
    return True


@dataclass(frozen=True)
class ChainReport:
    checked: int
    first_broken_seq: int | None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.first_broken_seq is None


def verify_chain(batch: int = 5000) -> ChainReport:
    prev = GENESIS
    expected_seq = 1
    checked = 0
    qs = AuditEntry.objects.order_by("seq")
    last_seq = 0
    while True:
        rows = list(qs.filter(seq__gt=last_seq)[:batch])
        if not rows:
            break
        for e in rows:
            if e.seq != expected_seq:
                return ChainReport(checked, expected_seq, "missing entry")
            if e.prev_hash != prev:
                return ChainReport(checked, e.seq, "previous hash does not match")
            if _digest(prev, _hashed_fields(e)) != e.hash:
                return ChainReport(checked, e.seq, "content changed")
            prev = e.hash
            expected_seq += 1
            checked += 1
            last_seq = e.seq
    head = AuditChainHead.objects.filter(id=1).first()
    if head and head.seq != checked:
        return ChainReport(checked, checked + 1, "entries after the last one were deleted")
    return ChainReport(checked, None)
