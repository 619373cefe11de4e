from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

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


def test_the_hashed_json_splits_around_seq():
    """PostgreSQL hashes the entry in the append statement from the JSON either side of the
    sequence number (``_payload_around_seq``): the two halves and the number are ``_digest``'s
    payload, byte for byte."""
    import datetime as dt
    import hashlib
    import json

    from django.core.serializers.json import DjangoJSONEncoder

    e = AuditEntry(
        seq=1234,
        at=dt.datetime(2026, 11, 26, 3, 4, 5, 678901, tzinfo=dt.UTC),
        actor_id=None,
        actor_label='张三 "q" \\',
        channel="web",
        ip=None,
        action="cases.accept",
        object_type="cases.case",
        object_id="42",
        summary="受理 ZJ…",
        detail={"z": [1, "二"], "a": None},
    )
    before, after = audit._payload_around_seq(e)
    payload = json.dumps(
        audit._hashed_fields(e),
        sort_keys=True,
        ensure_ascii=False,
        cls=DjangoJSONEncoder,
        separators=(",", ":"),
    )
    assert before + "1234" + after == payload
    prev = "f" * 64
    assert hashlib.sha256((prev + before + "1234" + after).encode()).hexdigest() == audit._digest(
        prev, audit._hashed_fields(e)
    )


def test_a_batch_appends_its_entries_in_order_at_its_end():
    """``audit.batched``: on PostgreSQL the entries recorded inside are appended in one statement
    when it ends (before that they have no number); the chain verifies either way, and an error
    inside drops them with the transaction."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    audit.record("test.before", object_id="0")  # the head row exists
    with CaptureQueriesContext(connection) as ctx, transaction.atomic(), audit.batched():
        first = audit.record("test.batch", object_id="1", detail={"名": "一"})
        second = audit.record("test.batch", object_id="2", detail={"k": [1, None]})
        if connection.vendor == "postgresql":
            assert first.seq is None and second.seq is None
    appends = [q for q in ctx.captured_queries if "auditchainhead" in q["sql"].lower()]
    assert len(appends) == (1 if connection.vendor == "postgresql" else 4)
    assert (first.seq, second.seq) == (2, 3) and second.prev_hash == first.hash
    assert list(AuditEntry.objects.order_by("seq").values_list("object_id", flat=True)) == ["0", "1", "2"]
    assert audit.verify_chain().ok

    with pytest.raises(RuntimeError), transaction.atomic(), audit.batched():
        audit.record("test.dropped", object_id="3")
        raise RuntimeError("the action failed")
    assert AuditEntry.objects.count() == 3 and audit.verify_chain().ok
    audit.record("test.after", object_id="4")
    assert audit.verify_chain().ok and AuditEntry.objects.get(object_id="4").seq == 4


def test_the_statement_writes_every_field_of_the_entry():
    """``_append_pg`` names its columns (``_PG_COLUMNS``): they must be every concrete field of
    ``AuditEntry`` but the ones it computes, each stored under its own name."""
    fields = AuditEntry._meta.concrete_fields
    assert all(f.column == f.attname for f in fields)
    assert set(audit._PG_COLUMNS) == {f.attname for f in fields} - {"id", "seq", "prev_hash", "hash"}


def _entries() -> list[AuditEntry]:
    import datetime as dt

    at = dt.datetime(2026, 11, 26, 3, 4, 5, 678901, tzinfo=dt.UTC)
    return [
        AuditEntry(
            at=at,
            actor_id=None,
            actor_label='张三 "q" \\',
            channel="web",
            ip="",
            action="cases.accept",
            object_type="cases.case",
            object_id="42",
            summary="受理 ZJ…",
            detail={"z": [1, "二", None], "a": {"b": 1.5, "c": True}, "s": "\u2028\n'\""},
        ),
        AuditEntry(
            at=at + dt.timedelta(microseconds=1),
            actor_id=7,
            actor_label="clerk",
            channel="api",
            ip="10.0.0.1",
            action="cases.approve",
            object_type="",
            object_id="",
            summary="",
            detail={},
        ),
    ]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the one-statement append is PostgreSQL's")
def test_the_statement_and_the_orm_append_the_same_rows():
    """``_append_pg`` and ``_append_orm`` from the same head write the same rows, move the head
    alike and leave a chain that verifies: the statement hashes what ``_digest`` hashes."""
    from django.db import transaction

    from yiwang.core.models import AuditChainHead

    audit.record("test.before", object_id="0")  # the head row exists

    def appended(append) -> tuple[list[dict], tuple[int, str], list[tuple]]:
        entries = _entries()
        with transaction.atomic():
            sid = transaction.savepoint()
            assert append(entries) is not False
            rows = list(AuditEntry.objects.order_by("seq").values())
            head = AuditChainHead.objects.values_list("seq", "hash").get(id=1)
            assert audit.verify_chain().ok
            transaction.savepoint_rollback(sid)
        for row in rows:
            row.pop("id")
        returned = [(e.pk is not None, e.seq, e.prev_hash, e.hash) for e in entries]
        return rows, head, returned

    statement, orm = appended(audit._append_pg), appended(audit._append_orm)
    assert statement == orm
    assert statement[1][0] == 3 and statement[0][1]["detail"] == _entries()[0].detail


def test_save_signal_receivers_get_the_orm_append():
    """The statement sends no save signals: with a receiver on ``AuditEntry`` it refuses to run
    and entries are appended by the ORM, batched or not, so the receiver sees each one."""
    from django.db import transaction
    from django.db.models.signals import post_save

    seen: list[str] = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance.object_id)

    audit.record("test.before", object_id="0")
    post_save.connect(receiver, sender=AuditEntry, dispatch_uid="test-audit-signal")
    try:
        if connection.vendor == "postgresql":
            with pytest.raises(RuntimeError, match="signal"):
                audit._append_pg(_entries())
        audit.record("test.plain", object_id="1")
        with transaction.atomic(), audit.batched():
            audit.record("test.batch", object_id="2")
            audit.record("test.batch", object_id="3")
    finally:
        post_save.disconnect(dispatch_uid="test-audit-signal", sender=AuditEntry)
    assert seen == ["1", "2", "3"] and audit.verify_chain().ok
