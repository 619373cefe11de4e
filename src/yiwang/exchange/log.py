"""The exchange log (交换日志): every request to a registry and its answer, as metadata, in an
append-only table whose entries are sealed into a hash chain in batches.

Why batches: a chain whose every entry holds the previous entry's hash needs a lock per
append, which would queue every registry lookup of the province behind one row (the audit log
accepts that for staff actions; an exchange API serving departments' systems cannot). So, as
X-Road batches its timestamps:

- ``record`` inserts one entry with the SHA-256 of its own columns (``entry_hash``) and takes
  no lock. ``(client_id, request_id)`` is unique: the same request sent twice is logged once
  (``record`` returns the first entry and ``created=False``).
- ``seal_pending`` (a periodic job, ``yiwang seal-exchange-log``) takes the committed entries
  not yet sealed, in id order, gives each the new seal and its position in it, and writes the
  seal: ``hash = SHA-256(previous seal's hash + each entry's position and hash)``. Only the
  sealer locks (the chain's last seal), and only against another sealer. It also folds the
  sealed entries into ``ExchangeDailyFigure`` (each entry is counted exactly once).
- ``verify_log`` (``yiwang verify-exchange-log``) recomputes every entry's hash and every
  seal's, and names the first broken entry or seal.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from yiwang.core import audit

from .models import ExchangeDailyFigure, ExchangeLogEntry, ExchangeLogSeal, ExchangeOutcome

if TYPE_CHECKING:
    from yiwang.regions.models import Department

GENESIS = "0" * 64
SEAL_BATCH = 5000


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def entry_fields(e: ExchangeLogEntry) -> dict[str, Any]:
    """The columns an entry's hash covers: everything written at the request."""
    return {
        "request_id": e.request_id,
        "client_id": e.client_id,
        "at": e.at.isoformat(),
        "consumer_id": e.consumer_id,
        "registry": e.registry,
        "resource_code": e.resource_code,
        "grant_id": e.grant_id,
        "fields": list(e.fields),
        "purpose": e.purpose,
        "case_number": e.case_number,
        "subjects": e.subjects,
        "subjects_digest": e.subjects_digest,
        "outcome": e.outcome,
        "reason": e.reason,
        "records": e.records,
    }


def entry_hash(e: ExchangeLogEntry) -> str:
    payload = json.dumps(
        entry_fields(e), sort_keys=True, ensure_ascii=False, cls=DjangoJSONEncoder, separators=(",", ":")
    )
    return _sha256(payload)


def subjects_digest(subject_hashes: Iterable[str]) -> str:
    """One digest for the keyed hashes of the people or companies a request named, in order: the
    log proves which subjects a request concerned without holding an ID number, even hashed."""
    return _sha256("\n".join(subject_hashes))


def record(
    *,
    request_id: str,
    client_id: str,
    consumer: Department,
    registry: str,
    outcome: str,
    subject_hashes: list[str],
    fields: list[str] | None = None,
    resource_code: str = "",
    grant_id: int | None = None,
    purpose: str = "",
    case_number: str = "",
    reason: str = "",
    records: int = 0,
) -> tuple[ExchangeLogEntry, bool]:
    """Log one request and its answer; ``(entry, created)``. The same ``request_id`` from the
    same client gives back the entry logged first (``created`` False), whatever else differs.
    Call it in the transaction of the answer, so that an answer is never given unlogged."""
    if outcome not in ExchangeOutcome.values:
        raise ValueError(f"unknown outcome {outcome!r}")
    entry = ExchangeLogEntry(
        request_id=request_id[:64],
        client_id=client_id[:100],
        at=timezone.now(),
        consumer=consumer,
        registry=registry,
        resource_code=resource_code,
        grant_id=grant_id,
        fields=sorted(fields or []),
        purpose=purpose[:200],
        case_number=case_number[:24],
        subjects=len(subject_hashes),
        subjects_digest=subjects_digest(subject_hashes),
        outcome=outcome,
        reason=reason[:64],
        records=records,
    )
    entry.entry_hash = entry_hash(entry)
    try:
        with transaction.atomic():
            entry.save(force_insert=True)
    except IntegrityError:
        first = ExchangeLogEntry.objects.filter(
            client_id=entry.client_id, request_id=entry.request_id
        ).first()
        if first is None:
            raise
        return first, False
    return entry, True


def logged(client_id: str, request_id: str) -> ExchangeLogEntry | None:
    """The entry of a request already answered, for a client that sends it again."""
    return ExchangeLogEntry.objects.filter(client_id=client_id, request_id=request_id[:64]).first()


def seal_hash(prev_hash: str, members: Iterable[tuple[int, str]]) -> str:
    """A seal's hash over the previous seal's and its entries' (position, entry hash) pairs."""
    return _sha256(prev_hash + "".join(f"\n{pos}:{h}" for pos, h in members))


def seal_pending(*, batch: int = SEAL_BATCH) -> ExchangeLogSeal | None:
    """Seal the committed entries not sealed yet (at most ``batch``, oldest first) and fold them
    into the daily figures; None when there was nothing to seal. One transaction: a failure
    leaves the entries unsealed for the next run."""
    with transaction.atomic():
        last = ExchangeLogSeal.objects.select_for_update().order_by("-seq").first()
        pending = list(
            ExchangeLogEntry.objects.filter(seal__isnull=True)
            .order_by("id")
            .only("id", "entry_hash", "at", "registry", "consumer_id", "outcome", "records")[:batch]
        )
        if not pending:
            return None
        prev = last.hash if last else GENESIS
        seal = ExchangeLogSeal.objects.create(
            seq=(last.seq if last else 0) + 1,
            sealed_at=timezone.now(),
            entries=len(pending),
            first_entry_id=pending[0].id,
            last_entry_id=pending[-1].id,
            prev_hash=prev,
            hash=seal_hash(prev, ((pos, e.entry_hash) for pos, e in enumerate(pending, start=1))),
        )
        for pos, e in enumerate(pending, start=1):
            e.seal, e.seal_pos = seal, pos
        ExchangeLogEntry.objects.bulk_update(pending, ["seal", "seal_pos"], batch_size=1000)
        _fold_figures(pending)
        # Anchored in the platform's audit chain, which has a head: removing the last seals
        # (and their entries) is then found too, not only a change inside the chain.
        audit.record(
            "exchange.seal",
            seal,
            summary=f"交换日志封存 #{seal.seq}（{seal.entries} 条）",
            detail={"seq": seal.seq, "hash": seal.hash, "entries": seal.entries},
        )
    return seal


def seal_all() -> tuple[int, int]:
    """Seal everything not sealed yet, batch after batch: ``(entries, seals)``. The job, the
    command and the demo call this."""
    entries = seals = 0
    while (seal := seal_pending()) is not None:
        entries += seal.entries
        seals += 1
    return entries, seals


def _fold_figures(entries: list[ExchangeLogEntry]) -> None:
    requests: Counter[tuple] = Counter()
    records: Counter[tuple] = Counter()
    for e in entries:
        key = (timezone.localdate(e.at), e.registry, e.consumer_id, e.outcome)
        requests[key] += 1
        records[key] += e.records
    for key in sorted(requests, key=str):
        day, registry, consumer_id, outcome = key
        row, created = ExchangeDailyFigure.objects.get_or_create(
            day=day,
            registry=registry,
            consumer_id=consumer_id,
            outcome=outcome,
            defaults={"requests": requests[key], "records": records[key]},
        )
        if not created:
            ExchangeDailyFigure.objects.filter(pk=row.pk).update(
                requests=F("requests") + requests[key], records=F("records") + records[key]
            )


@dataclass(frozen=True)
class LogReport:
    entries: int
    seals: int
    unsealed: int
    broken_entry_id: int | None = None
    broken_seal_seq: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_entry_id is None and self.broken_seal_seq is None


def verify_log(*, batch: int = SEAL_BATCH) -> LogReport:
    """Walk the seals in order and their entries in position order: every entry's hash must
    match its columns, every seal its entries and the seal before it. The first break found is
    named: an entry whose columns changed (by id), a seal with an entry missing or moved (by
    seal and position), a seal changed or removed (by seq). Entries not sealed yet are checked
    against their own hash only, and counted."""
    entries = seals = 0
    prev = GENESIS
    expected_seq = 1
    for seal in ExchangeLogSeal.objects.order_by("seq").iterator(chunk_size=500):
        if seal.seq != expected_seq:
            return LogReport(entries, seals, 0, broken_seal_seq=expected_seq, reason="seal missing")
        if seal.prev_hash != prev:
            return LogReport(
                entries, seals, 0, broken_seal_seq=seal.seq, reason="previous seal's hash does not match"
            )
        members: list[tuple[int, str]] = []
        for e in ExchangeLogEntry.objects.filter(seal=seal).order_by("seal_pos").iterator(chunk_size=batch):
            expected_pos = len(members) + 1
            if e.seal_pos != expected_pos:
                return LogReport(
                    entries,
                    seals,
                    0,
                    broken_seal_seq=seal.seq,
                    reason=f"entry at position {expected_pos} missing",
                )
            if entry_hash(e) != e.entry_hash:
                return LogReport(entries, seals, 0, broken_entry_id=e.id, reason="entry changed")
            members.append((e.seal_pos, e.entry_hash))
            entries += 1
        if len(members) != seal.entries:
            return LogReport(
                entries,
                seals,
                0,
                broken_seal_seq=seal.seq,
                reason=f"entry at position {len(members) + 1} missing",
            )
        if seal_hash(prev, members) != seal.hash:
            return LogReport(entries, seals, 0, broken_seal_seq=seal.seq, reason="seal changed")
        prev = seal.hash
        expected_seq += 1
        seals += 1
    anchored = _last_anchor()
    if anchored is not None and anchored["seq"] >= expected_seq:
        return LogReport(entries, seals, 0, broken_seal_seq=expected_seq, reason="sealed entries removed")
    if anchored is not None and anchored["seq"] == expected_seq - 1 and anchored["hash"] != prev:
        return LogReport(entries, seals, 0, broken_seal_seq=expected_seq - 1, reason="seal changed")
    unsealed = 0
    for e in ExchangeLogEntry.objects.filter(seal__isnull=True).order_by("id").iterator(chunk_size=batch):
        if entry_hash(e) != e.entry_hash:
            return LogReport(entries, seals, unsealed, broken_entry_id=e.id, reason="entry changed")
        unsealed += 1
    return LogReport(entries, seals, unsealed)


def _last_anchor() -> dict[str, Any] | None:
    """The seq and hash of the last seal as the audit chain recorded it."""
    from yiwang.core.models import AuditEntry

    entry = AuditEntry.objects.filter(action="exchange.seal").order_by("-seq").only("detail").first()
    return entry.detail if entry else None
