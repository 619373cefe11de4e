"""Tampering with the audit log in the database is found, and `yiwang verify_audit` names the
first broken entry: changed content, a deleted entry (in the middle and at the end) and two
entries swapped (their seq values exchanged, the way someone would reorder history)."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from yiwang.core import audit
from yiwang.core.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain() -> list[AuditEntry]:
    for i in range(1, 9):
        audit.record("case.step", object_type="case", object_id=str(i), summary=f"step {i}", detail={"n": i})
    call_command("verify_audit")  # intact before each tampering
    return list(AuditEntry.objects.order_by("seq"))


def _broken_at(seq: int) -> str:
    with pytest.raises(CommandError) as exc:
        call_command("verify_audit")
    message = str(exc.value)
    assert f"entry #{seq} " in message, message
    assert f"{seq - 1} entries before it are intact" in message
    return message


def test_altered_summary(chain) -> None:
    AuditEntry.objects.filter(seq=4).update(summary="step 4 (nothing happened)")
    assert "content changed" in _broken_at(4)


def test_altered_detail_actor_and_time(chain) -> None:
    entry = AuditEntry.objects.get(seq=6)
    entry.detail = {"n": 60}
    entry.save(update_fields=["detail"])
    _broken_at(6)
    AuditEntry.objects.filter(seq=2).update(actor_label="someone else")
    _broken_at(2)


def test_altered_entry_with_its_own_hash_recomputed(chain) -> None:
    """A forger who recomputes the changed entry's hash breaks the next entry's link."""
    from yiwang.core.audit import _digest, _hashed_fields

    entry = AuditEntry.objects.get(seq=3)
    entry.summary = "rewritten"
    entry.hash = _digest(entry.prev_hash, _hashed_fields(entry))
    entry.save(update_fields=["summary", "hash"])
    assert "previous hash" in _broken_at(4)


def test_deleted_entry_in_the_middle(chain) -> None:
    AuditEntry.objects.filter(seq=5).delete()
    assert "missing entry" in _broken_at(5)


def test_deleted_last_entries(chain) -> None:
    AuditEntry.objects.filter(seq__gte=7).delete()
    assert "deleted" in _broken_at(7)


def test_deleted_first_entry(chain) -> None:
    AuditEntry.objects.filter(seq=1).delete()
    _broken_at(1)


@pytest.mark.parametrize(("a", "b"), [(3, 6), (1, 2), (7, 8)])
def test_reordered_entries(chain, a: int, b: int) -> None:
    """Swap two entries' seq values (through a free value: seq is unique)."""
    with transaction.atomic():
        AuditEntry.objects.filter(seq=a).update(seq=-1)
        AuditEntry.objects.filter(seq=b).update(seq=a)
        AuditEntry.objects.filter(seq=-1).update(seq=b)
    _broken_at(a)


def test_reordered_by_swapping_content(chain) -> None:
    """Swapping everything but seq (the rows' content and hashes) is found too."""
    fields = ["at", "action", "object_id", "summary", "detail", "prev_hash", "hash"]
    e3, e5 = AuditEntry.objects.get(seq=3), AuditEntry.objects.get(seq=5)
    with transaction.atomic():
        AuditEntry.objects.filter(seq=3).update(hash="x" * 64)
        AuditEntry.objects.filter(seq=5).update(**{f: getattr(e3, f) for f in fields})
        AuditEntry.objects.filter(seq=3).update(**{f: getattr(e5, f) for f in fields})
    _broken_at(3)
