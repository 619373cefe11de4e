"""The exchange log: entries appended without a lock, sealed in batches into a chain anchored in
the audit log; the verifier names the first broken entry or seal; one entry per request id;
daily figures folded once per entry."""

from __future__ import annotations

import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from tests import factories
from yiwang.core.audit import verify_chain
from yiwang.exchange import log
from yiwang.exchange.models import ExchangeDailyFigure, ExchangeLogEntry, ExchangeLogSeal

pytestmark = pytest.mark.django_db(transaction=False)


@pytest.fixture
def dept():
    regions = factories.region_tree()
    return factories.department(regions["city"])


def _log(dept, n: int, *, client: str = "dept-system", outcome: str = "answered", **kw):
    return log.record(
        request_id=f"req-{n}",
        client_id=client,
        consumer=dept,
        registry="population",
        outcome=outcome,
        subject_hashes=[f"{n:064x}"],
        fields=["name", "address"],
        purpose="户籍核验",
        case_number="FJ350100202612070001",
        records=1 if outcome == "answered" else 0,
        **kw,
    )


def test_same_request_id_gives_one_entry(dept):
    first, created = _log(dept, 1)
    again, created_again = _log(dept, 1, outcome="refused")
    assert created and not created_again
    assert again.pk == first.pk and again.outcome == "answered"
    assert ExchangeLogEntry.objects.count() == 1
    # Another client may use the same id: ids are per client.
    _, other = _log(dept, 1, client="another-system")
    assert other and ExchangeLogEntry.objects.count() == 2


def test_seal_covers_entries_and_verifies(dept):
    for n in range(7):
        _log(dept, n)
    first = log.seal_pending(batch=5)
    second = log.seal_pending(batch=5)
    assert (first.seq, first.entries, second.seq, second.entries) == (1, 5, 2, 2)
    assert log.seal_pending() is None
    assert second.prev_hash == first.hash
    assert list(
        ExchangeLogEntry.objects.filter(seal=second).order_by("seal_pos").values_list("seal_pos", flat=True)
    ) == [1, 2]
    _log(dept, 99)  # not sealed yet: checked against its own hash
    report = log.verify_log()
    assert report.ok and (report.entries, report.seals, report.unsealed) == (7, 2, 1)
    # The seals are anchored in the audit chain, which stays intact.
    assert verify_chain().ok


def test_changed_entry_is_named(dept):
    entries = [_log(dept, n)[0] for n in range(4)]
    log.seal_pending()
    ExchangeLogEntry.objects.filter(pk=entries[2].pk).update(purpose="别的用途")
    report = log.verify_log()
    assert not report.ok and report.broken_entry_id == entries[2].pk and report.reason == "entry changed"
    with pytest.raises(CommandError, match=f"entry id {entries[2].pk}"):
        call_command("verify_exchange_log")


def test_changed_unsealed_entry_is_named(dept):
    entry, _ = _log(dept, 1)
    ExchangeLogEntry.objects.filter(pk=entry.pk).update(records=1000)
    assert log.verify_log().broken_entry_id == entry.pk


def test_removed_entry_is_found(dept):
    entries = [_log(dept, n)[0] for n in range(4)]
    log.seal_pending()
    ExchangeLogEntry.objects.filter(pk=entries[1].pk).delete()
    report = log.verify_log()
    assert report.broken_seal_seq == 1 and report.reason == "entry at position 2 missing"
    # The last one too (no gap in the positions left behind).
    entries2 = [_log(dept, n)[0] for n in range(10, 13)]
    log.seal_pending()
    ExchangeLogEntry.objects.filter(pk=entries2[-1].pk).delete()
    ExchangeLogEntry.objects.filter(seal__seq=1).delete()
    ExchangeLogSeal.objects.filter(seq=1).delete()
    report = log.verify_log()
    assert not report.ok and report.broken_seal_seq == 1


def test_removed_last_seal_is_found_through_the_audit_anchor(dept):
    for n in range(3):
        _log(dept, n)
    log.seal_pending()
    _log(dept, 3)
    last = log.seal_pending()
    ExchangeLogEntry.objects.filter(seal=last).delete()
    last.delete()
    report = log.verify_log()
    assert not report.ok and report.broken_seal_seq == 2 and report.reason == "sealed entries removed"


def test_rehashed_seal_is_found(dept):
    entries = [_log(dept, n)[0] for n in range(3)]
    seal = log.seal_pending()
    # A forger who changes an entry and recomputes its hash and its seal's is still found: the
    # audit anchor holds the seal's hash.
    e = ExchangeLogEntry.objects.get(pk=entries[0].pk)
    e.purpose = "别的用途"
    e.entry_hash = log.entry_hash(e)
    e.save()
    members = list(
        ExchangeLogEntry.objects.filter(seal=seal).order_by("seal_pos").values_list("seal_pos", "entry_hash")
    )
    ExchangeLogSeal.objects.filter(pk=seal.pk).update(hash=log.seal_hash(seal.prev_hash, members))
    report = log.verify_log()
    assert not report.ok and report.broken_seal_seq == 1 and report.reason == "seal changed"


def test_daily_figures_count_each_entry_once(dept):
    for n in range(5):
        _log(dept, n)
    _log(dept, 5, outcome="refused", reason="no_grant")
    _log(dept, 1)  # the same request again: not counted again
    log.seal_pending(batch=4)
    log.seal_pending(batch=4)
    rows = {r.outcome: (r.requests, r.records) for r in ExchangeDailyFigure.objects.all()}
    assert rows == {"answered": (5, 5), "refused": (1, 0)}


def test_commands(dept, capsys):
    for n in range(3):
        _log(dept, n)
    call_command("seal_exchange_log")
    call_command("verify_exchange_log")
    out = capsys.readouterr().out
    assert "sealed 3 entries in 1 seals" in out and "exchange log intact: 3 sealed entries in 1 seals" in out


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_concurrent_requests_do_not_wait_for_each_other(dept):
    """Two requests in open transactions append at once (no shared row is locked); the sealer
    sees only what has committed."""
    connection.close()
    started = threading.Barrier(2)
    done: list[int] = []

    def worker(n: int) -> None:
        from django.db import connection as conn
        from django.db import transaction

        with transaction.atomic():
            _log(dept, n)
            started.wait(timeout=5)  # both hold an open transaction with an entry in it
            done.append(n)
        conn.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert sorted(done) == [1, 2]
    assert log.seal_pending().entries == 2
