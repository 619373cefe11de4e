from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from yiwang.core import audit
from yiwang.core.context import ActorContext, reset_actor, set_actor
from yiwang.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_chain_links_and_verifies():
    token = set_actor(ActorContext(user_id=7, label="clerk", ip="10.0.0.1", channel="web"))
    try:
        for i in range(5):
            audit.record("test.action", object_type="x", object_id=str(i), detail={"i": i, "名称": "值"})
    finally:
        reset_actor(token)
    entries = list(AuditEntry.objects.order_by("seq"))
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0].prev_hash == "0" * 64
    assert all(b.prev_hash == a.hash for a, b in zip(entries, entries[1:], strict=False))
    assert entries[0].actor_label == "clerk" and entries[0].ip == "10.0.0.1"
    assert audit.verify_chain().ok
    call_command("verify_audit")


def test_tampering_is_found_at_the_right_entry():
    for i in range(4):
        audit.record("test.action", object_id=str(i))
    AuditEntry.objects.filter(seq=3).update(summary="changed afterwards")
    report = audit.verify_chain()
    assert report.first_broken_seq == 3 and report.reason == "content changed"
    with pytest.raises(CommandError, match="#3"):
        call_command("verify_audit")


def test_deleting_an_entry_is_found():
    for i in range(4):
        audit.record("test.action", object_id=str(i))
    AuditEntry.objects.filter(seq=2).delete()
    assert audit.verify_chain().first_broken_seq == 2
    AuditEntry.objects.filter(seq__gte=2).delete()
    AuditEntry.objects.create  # noqa: B018
    assert audit.verify_chain().first_broken_seq == 2  # head still says 4 entries
